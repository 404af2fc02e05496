/**
 * Typed errors. Every error the tap raises on purpose is a TapError with a stable `code`
 * (for scripts and tests), a message that says what to do, an exit code, and an optional
 * `cause`. Messages never contain the token: callers pass paths, not URLs with secrets.
 */

export type ExitCode = 0 | 1 | 2;

export interface TapErrorOptions {
  cause?: unknown;
  details?: string;
}

export class TapError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** Extra lines shown only with --log-level debug. */
  readonly details: string | undefined;

  constructor(code: string, message: string, exitCode: ExitCode, options: TapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.details = options.details;
  }
}

/** Bad config.json / env values: exit 2. `problems` holds one sentence per problem. */
export class ConfigError extends TapError {
  readonly problems: readonly string[];
  /** `source` names where the config came from, e.g. "the config file c.json". */
  constructor(problems: readonly string[], options: TapErrorOptions & { source?: string } = {}) {
    const where = options.source ?? 'the config';
    const head =
      problems.length === 1
        ? options.source === undefined
          ? (problems[0] ?? '')
          : `${(problems[0] ?? '').replace(/\.$/, '')} (in ${options.source}).`
        : `${problems.length} problems in ${where}: ${problems.join(' ')}`;
    super('CONFIG_INVALID', head, 2, options);
    this.problems = problems;
  }
}

/** A file given on the command line cannot be read or parsed: exit 2. */
export class InputFileError extends TapError {
  constructor(code: 'CONFIG_FILE' | 'STATE_FILE' | 'CATALOG_FILE', message: string, options: TapErrorOptions = {}) {
    super(code, message, 2, options);
  }
}

/** The state file parses but is not a state this tap can resume from: exit 2. */
export class StateError extends TapError {
  constructor(message: string, options: TapErrorOptions = {}) {
    super('STATE_INVALID', message, 2, options);
  }
}

/** The catalog file parses but is not a valid Singer catalog: exit 2. */
export class CatalogError extends TapError {
  constructor(message: string, options: TapErrorOptions = {}) {
    super('CATALOG_INVALID', message, 2, options);
  }
}

/** Command-line usage problems: exit 2. */
export class UsageError extends TapError {
  constructor(message: string, options: TapErrorOptions = {}) {
    super('USAGE', message, 2, options);
  }
}

/** GitLab answered with an HTTP error we do not retry (or stopped retrying): exit 1. */
export class GitLabHttpError extends TapError {
  readonly status: number;
  readonly method: string;
  /** Path and query of the request, never the origin's credentials or the token. */
  readonly path: string;
  /** GitLab's own message, summarised. */
  readonly gitlabMessage: string;

  constructor(init: { status: number; method: string; path: string; gitlabMessage: string; advice: string; retries?: number }, options: TapErrorOptions = {}) {
    const tried = init.retries && init.retries > 0 ? ` after ${init.retries} retries` : '';
    const msg = `GitLab answered ${init.status} to ${init.method} ${init.path}${tried}: ${init.gitlabMessage}. ${init.advice}`;
    super(`GITLAB_HTTP_${init.status}`, msg, 1, options);
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.gitlabMessage = init.gitlabMessage;
  }
}

/** GitLab could not be reached at all (DNS, refused, TLS, timeout): exit 1. */
export class GitLabNetworkError extends TapError {
  constructor(code: 'NETWORK_DNS' | 'NETWORK_REFUSED' | 'NETWORK_TLS' | 'NETWORK_TIMEOUT' | 'NETWORK_RESET' | 'NETWORK_OTHER', message: string, options: TapErrorOptions = {}) {
    super(code, message, 1, options);
  }
}

/** GitLab answered 2xx with a body we cannot use (not JSON, wrong shape): exit 1. */
export class GitLabResponseError extends TapError {
  constructor(message: string, options: TapErrorOptions = {}) {
    super('GITLAB_BAD_RESPONSE', message, 1, options);
  }
}

/** Some configured projects could not be read; the others were synced: exit 1. */
export class ProjectsFailedError extends TapError {
  constructor(message: string, options: TapErrorOptions = {}) {
    super('PROJECTS_FAILED', message, 1, options);
  }
}

/** The run was stopped by SIGTERM / SIGINT after writing a safe STATE: exit 1. */
export class InterruptedError extends TapError {
  constructor(signal: string) {
    super('INTERRUPTED', `Stopped by ${signal}; the last STATE printed is safe to resume from.`, 1);
  }
}

export function isTapError(err: unknown): err is TapError {
  return err instanceof TapError;
}

/** Removes every occurrence of the secrets from a text (belt and braces for log lines). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  return out;
}
