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
  /** A 403 about the token itself (`insufficient_scope`), not about the one resource asked for. */
  readonly tokenScope: boolean;

  constructor(init: { status: number; method: string; path: string; gitlabMessage: string; advice: string; retries?: number; tokenScope?: boolean }, options: TapErrorOptions = {}) {
    const tried = init.retries && init.retries > 0 ? ` after ${init.retries} retries` : '';
    const msg = `GitLab answered ${init.status} to ${init.method} ${init.path}${tried}: ${init.gitlabMessage}. ${init.advice}`;
    super(`GITLAB_HTTP_${init.status}`, msg, 1, options);
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.gitlabMessage = init.gitlabMessage;
    this.tokenScope = init.tokenScope === true;
  }

  /**
   * GitLab refuses this one resource (404, or a 403 that is not about the token's scope): skip it and go on. A 403
   * for a missing scope would refuse everything alike, and is the run's problem.
   */
  get refusesResource(): boolean {
    return this.status === 404 || (this.status === 403 && !this.tokenScope);
  }
}

/** GitLab could not be reached at all (DNS, refused, TLS, timeout): exit 1. */
export class GitLabNetworkError extends TapError {
  constructor(code: 'NETWORK_DNS' | 'NETWORK_REFUSED' | 'NETWORK_TLS' | 'NETWORK_TIMEOUT' | 'NETWORK_RESET' | 'NETWORK_PROXY' | 'NETWORK_OTHER', message: string, options: TapErrorOptions = {}) {
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

/** Stopped by SIGTERM / SIGINT: exit 1. A sync has written a safe STATE first; `--test` and `--list-projects` print none. */
export class InterruptedError extends TapError {
  constructor(signal: string, options: { wroteState?: boolean } = {}) {
    super('INTERRUPTED', options.wroteState === false ? `Stopped by ${signal}.` : `Stopped by ${signal}; the last STATE printed is safe to resume from.`, 1);
  }
}

export function isTapError(err: unknown): err is TapError {
  return err instanceof TapError;
}

/** Shortest text `redact` removes: shorter pieces are too likely to be ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * The forms a secret may take once some code has handled it: as given, trimmed, with its
 * whitespace collapsed (what a one-line formatter does to a wrapped token), with its whitespace
 * removed, JSON-escaped, and, when it holds whitespace or control characters, each piece between
 * them. Longest first, so that a whole form is replaced before any of its pieces.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, secret.trim()]);
  forms.add(secret.replace(/\s*\n\s*/g, ' ').trim());
  forms.add(secret.replace(/\s+/g, ' ').trim());
  forms.add(secret.replace(/\s+/g, ''));
  forms.add(JSON.stringify(secret).slice(1, -1));
  for (const piece of secret.split(/[\s\x00-\x1f\x7f]+/)) forms.add(piece);
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * Removes every occurrence of the secrets from a text (belt and braces for log lines and errors),
 * in each of the forms `secretForms` lists.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of forms) out = out.split(s).join('[REDACTED]');
  return out;
}
