/**
 * The command line: a yargs parser and `main(argv, io)`, which returns the exit code (0 ok,
 * 1 runtime failure, 2 usage/config error). This is the only place errors become stderr text:
 * one line `tap-gitlab: <message>`, with details, causes and stacks at --log-level debug.
 * Everything outside is injected through `io`; nothing here touches process.* directly.
 * Modules for the network modes are imported lazily so `--about`, `--help` and config errors
 * stay fast.
 */
import { createNodeFetch } from './gitlab/node-fetch.js';
import yargs from 'yargs';
import { readFile as fsReadFile } from 'node:fs/promises';
import { renderAbout, type AboutFormat } from './about.js';
import type { Clock } from './clock.js';
import { checkConfig, findSetting, type TapConfig } from './config.js';
import { loadRawConfig, readJsonFile, type ReadFile } from './config-env.js';
import { CatalogError, ConfigError, GitLabResponseError, InterruptedError, StateError, TapError, UsageError, redact } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { VERSION } from './version.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  clock?: Clock;
  signal?: AbortSignal;
  readFile?: (path: string) => Promise<string>;
}

type Mode = 'about' | 'discover' | 'test' | 'list-projects' | 'sync';

interface CliArgs {
  mode: Mode;
  config: string[];
  state: string | undefined;
  catalog: string | undefined;
  format: AboutFormat;
  logLevel: Exclude<LogLevel, 'silent'>;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const FORMATS = ['text', 'json', 'markdown'] as const;

function parser(argv: string[]) {
  return yargs(argv)
    .scriptName('tap-gitlab')
    .usage('$0 --config CONFIG [--state STATE] [--catalog CATALOG]\n\nSinger tap for GitLab: prints projects, merge requests and users as JSON lines on stdout.')
    .option('config', { alias: 'c', type: 'string', array: true, nargs: 1, describe: 'Config JSON file; repeat to merge (later wins). ENV reads TAP_GITLAB_* variables.' })
    .option('state', { alias: 's', type: 'string', describe: 'State JSON file from a previous run (resume from its bookmarks).' })
    .option('catalog', { type: 'string', describe: 'Catalog JSON file selecting streams and fields.' })
    .option('properties', { alias: 'p', type: 'string', describe: 'Legacy name of --catalog.' })
    .option('discover', { alias: 'd', type: 'boolean', describe: 'Print the catalog and exit (offline).' })
    .option('about', { type: 'boolean', describe: 'Describe the tap: capabilities and settings.' })
    .option('format', { choices: FORMATS, default: 'text' as AboutFormat, describe: 'Format of --about.' })
    .option('test', { type: 'boolean', describe: 'Check the connection: who the token belongs to and the GitLab version.' })
    .option('list-projects', { type: 'boolean', describe: 'Show which projects would be synced, and why others are left out.' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as CliArgs['logLevel'], describe: 'Log detail on stderr.' })
    .example('$0 --config config.json | jq -c \'select(.type=="RECORD")\'', 'Sync and look at the records')
    .example('$0 --config config.json --discover > catalog.json', 'Write the catalog')
    .epilogue('Exit codes: 0 success, 1 runtime failure, 2 bad usage or config.')
    .strict()
    .exitProcess(false)
    .version(VERSION)
    .help()
    .wrap(100)
    .fail((msg: string | null, err: Error | null) => {
      if (err instanceof TapError) throw err;
      throw new UsageError(`${oneLine(msg ?? err?.message ?? 'invalid arguments')}. Run tap-gitlab --help for usage.`);
    });
}

/** Parses argv. Returns null when yargs answered by itself (--help, --version), after writing the text. */
async function parseArgs(argv: string[], io: CliIo): Promise<CliArgs | null> {
  let output = '';
  const a = await parser(argv).parseAsync(argv, {}, (_err: Error | undefined, _argv: unknown, out: string) => {
    output = out;
  });
  if (a.help === true || a.version === true) {
    await write(io.stdout, output.endsWith('\n') ? output : `${output}\n`);
    return null;
  }
  if (a._.length > 0) throw new UsageError(`Unexpected argument ${String(a._[0])}. Run tap-gitlab --help for usage.`);
  // yargs makes a repeated option a list: only --config may be given more than once.
  const repeated = (['state', 'catalog', 'properties', 'format', 'log-level'] as const).filter((o) => Array.isArray(a[o]));
  if (repeated.length > 0) throw new UsageError(`Give --${repeated[0]} once. Run tap-gitlab --help for usage.`);
  for (const o of ['state', 'catalog', 'properties'] as const) {
    const v = a[o];
    if (typeof v === 'string' && v.trim() === '') throw new UsageError(`--${o} needs a file name. Run tap-gitlab --help for usage.`);
  }
  const modes = (['discover', 'test', 'list-projects'] as const).filter((m) => a[m] === true);
  if (modes.length > 1) throw new UsageError(`Choose one of ${modes.map((m) => `--${m}`).join(' and ')}, not both.`);
  if (a.catalog !== undefined && a.properties !== undefined && a.catalog !== a.properties) {
    throw new UsageError('Give the catalog once: --catalog and --properties (its legacy name) point to different files.');
  }
  const mode: Mode = a.about === true ? 'about' : (modes[0] ?? 'sync');
  const config = (a.config ?? []).map(String);
  if (config.some((c) => c.trim() === '')) throw new UsageError('--config needs a file name (or ENV). Run tap-gitlab --help for usage.');
  if (config.length === 0 && (mode === 'sync' || mode === 'test' || mode === 'list-projects')) {
    throw new UsageError('Missing --config: give a config JSON file, or --config ENV to read TAP_GITLAB_* variables. Run tap-gitlab --about for the settings.');
  }
  return { mode, config, state: a.state, catalog: a.catalog ?? a.properties, format: a.format, logLevel: a['log-level'] };
}

/** Runs the tap with the given arguments; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let logLevel: LogLevel = 'info';
  const secrets: string[] = [];
  try {
    const args = await parseArgs(argv, io);
    if (args === null) return 0;
    logLevel = args.logLevel;
    return await run(args, io, secrets);
  } catch (err) {
    await reportError(err, io.stderr, logLevel, secrets);
    return err instanceof TapError ? err.exitCode : 1;
  }
}

async function run(args: CliArgs, io: CliIo, secrets: string[]): Promise<number> {
  const readFile: ReadFile = io.readFile ?? ((p) => fsReadFile(p, 'utf8'));
  if (args.mode === 'about') {
    await write(io.stdout, renderAbout(args.format));
    return 0;
  }
  // Raw config first (files must exist even for --discover), then the secrets, then validation.
  const raw = await loadRawConfig(args.config, { readFile, env: io.env });
  for (const [key, value] of Object.entries(raw)) {
    if (findSetting(key)?.secret && typeof value === 'string' && value.trim() !== '') secrets.push(value, value.trim());
  }
  if (args.mode === 'discover') {
    const { buildCatalog } = await import('./singer/catalog.js');
    await write(io.stdout, `${JSON.stringify(buildCatalog(), null, 2)}\n`);
    return 0;
  }
  const { config, warnings } = withSource(() => checkConfig(raw), configSource(args.config));
  const clock = io.clock ?? (await import('./clock.js')).systemClock;
  const logger = createLogger({
    level: args.logLevel,
    write: (line) => void io.stderr.write(line),
    now: () => new Date(clock.now()),
    secrets,
  });
  for (const w of warnings) logger.warn(w);
  // Node's own HTTP stack unless a fetch is injected (tests): see gitlab/node-fetch.ts.
  const fetchFn = io.fetch ?? createNodeFetch({ env: io.env });
  if (io.fetch === undefined) {
    const { describeProxy, proxyFor } = await import('./gitlab/proxy.js');
    const proxy = (() => {
      try {
        return proxyFor(new URL(config.apiUrl), io.env);
      } catch {
        return null; // the first request reports it
      }
    })();
    if (proxy !== null) logger.info(`Reaching GitLab through the proxy ${describeProxy(proxy)} (https_proxy / http_proxy).`);
  }
  const signal = io.signal ?? new AbortController().signal;

  switch (args.mode) {
    case 'test':
      return stoppable(signal, () => connectionTest(config, { logger, fetch: fetchFn, clock, signal, stderr: io.stderr }));
    case 'list-projects': {
      const state = await readState(args.state, readFile);
      return stoppable(signal, () => listProjectsTable(config, { logger, fetch: fetchFn, clock, signal, stdout: io.stdout, state }));
    }
    case 'sync': {
      const state = await readState(args.state, readFile);
      const { parseCatalog, selectStreams } = await import('./singer/catalog.js');
      const catalogPath = args.catalog;
      const catalogJson = catalogPath === undefined ? null : await readJsonFile(catalogPath, 'CATALOG_FILE', readFile);
      const catalog = catalogPath === undefined ? null : withSource(() => parseCatalog(catalogJson), `the catalog file ${catalogPath}`);
      const selections = selectStreams(catalog, config);
      const { createWriter } = await import('./singer/writer.js');
      const writer = createWriter(io.stdout, { reuseBuffers: io.stdout === process.stdout });
      const { runSync } = await import('./sync.js');
      try {
        const summary = await runSync({ config, state, selections, writer, logger, fetch: fetchFn, clock, signal });
        return summary.exitCode;
      } finally {
        // runSync ends with a STATE, which writes everything; this is for paths that end without one.
        await writer.flush().catch(() => undefined);
      }
    }
  }
}

/** "the config file c.json", or "the config from a.json, b.json and TAP_GITLAB_* variables". */
function configSource(files: readonly string[]): string {
  const names = files.map((f) => (f === 'ENV' ? 'TAP_GITLAB_* variables' : f));
  if (names.length === 1) return files[0] === 'ENV' ? 'the TAP_GITLAB_* variables' : `the config file ${names[0] ?? ''}`;
  const last = names[names.length - 1] ?? '';
  return `the config from ${names.slice(0, -1).join(', ')} and ${last}`;
}

/** Re-raises config, state and catalog problems with the file they came from in the sentence. */
function withSource<T>(fn: () => T, source: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.problems, { source, cause: err.cause });
    if (err instanceof StateError) throw new StateError(`${err.message.replace(/\.$/, '')} (in ${source}).`, { cause: err.cause });
    if (err instanceof CatalogError) throw new CatalogError(`${err.message.replace(/\.$/, '')} (in ${source}).`, { cause: err.cause });
    throw err;
  }
}

async function readState(path: string | undefined, readFile: ReadFile) {
  const { parseState } = await import('./singer/state.js');
  if (path === undefined) return parseState({});
  const json = await readJsonFile(path, 'STATE_FILE', readFile);
  return withSource(() => parseState(json), `the state file ${path}`);
}

interface NetDeps {
  logger: Logger;
  fetch: typeof fetch;
  clock: Clock;
  signal: AbortSignal;
}

async function makeClient(config: TapConfig, deps: NetDeps) {
  const { clientForConfig } = await import('./client-for-config.js');
  return clientForConfig(config, deps);
}

/** A mode without a STATE stopped by SIGTERM / SIGINT says so, rather than "unexpected error: This operation was aborted". */
async function stoppable(signal: AbortSignal, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (signal.aborted) throw new InterruptedError('a signal', { wroteState: false });
    throw err;
  }
}

/** `--test`: GET /user and GET /version; one line on stderr. Errors propagate (exit 1). */
async function connectionTest(config: TapConfig, deps: NetDeps & { stderr: NodeJS.WritableStream }): Promise<number> {
  const client = await makeClient(config, deps);
  const user = await client.get('/user');
  const username = field(user.body, 'username');
  const id = user.body !== null && typeof user.body === 'object' ? (user.body as Record<string, unknown>).id : undefined;
  // Any JSON server would do otherwise (`{"status":"ok"}` read as "an unnamed user"): GitLab's /user always has both.
  if (typeof id !== 'number' || username === null) {
    throw new GitLabResponseError(
      `GET /user at ${config.baseUrl} answered JSON that is not a GitLab user (no numeric id and username). Check gitlab_base_url: it must be the address GitLab is served at.`,
    );
  }
  let version = 'version unknown';
  try {
    const v = await client.get('/version');
    const text = field(v.body, 'version');
    if (text !== null) version = text;
  } catch (err) {
    if (deps.signal.aborted) throw err;
    deps.logger.debug(`GET /version failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  await write(deps.stderr, `Connected to ${config.baseUrl} as @${username} (GitLab ${version})\n`);
  return 0;
}

function field(body: unknown, key: string): string | null {
  if (body === null || typeof body !== 'object') return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** `--list-projects`: a human table on stdout (this is not a Singer mode). */
async function listProjectsTable(
  config: TapConfig,
  deps: NetDeps & { stdout: NodeJS.WritableStream; state: Awaited<ReturnType<typeof readState>> },
): Promise<number> {
  const client = await makeClient(config, deps);
  const { listProjects } = await import('./discovery.js');
  const res = await listProjects({ config, client, logger: deps.logger, state: deps.state, clock: deps.clock });
  await write(deps.stdout, formatProjectTable(res.selected, res.excluded));
  return 0;
}

/** The `--list-projects` table: selected projects, then the ones left out, each with its reason. */
export function formatProjectTable(
  selected: ReadonlyArray<{ id: number; path_with_namespace: string; reason: string }>,
  excluded: ReadonlyArray<{ id: number | null; path_with_namespace: string; reason: string }>,
): string {
  const rows = [...selected, ...excluded];
  const idWidth = Math.max(2, ...rows.map((r) => String(r.id ?? '-').length));
  const pathWidth = Math.max(7, ...rows.map((r) => r.path_with_namespace.length));
  const line = (id: string, path: string, reason: string): string => `  ${id.padStart(idWidth)}  ${path.padEnd(pathWidth)}  ${reason}`.trimEnd();
  const section = (title: string, items: ReadonlyArray<{ id: number | null; path_with_namespace: string; reason: string }>): string[] =>
    items.length === 0 ? [`${title}: none`] : [`${title}:`, line('ID', 'PROJECT', 'REASON'), ...items.map((r) => line(String(r.id ?? '-'), r.path_with_namespace, r.reason))];
  const plural = (n: number): string => `${n} project${n === 1 ? '' : 's'}`;
  return [...section(`Would sync ${plural(selected.length)}`, selected), '', ...section(`Left out ${plural(excluded.length)}`, excluded), ''].join('\n');
}

/**
 * The one place an error becomes text: `tap-gitlab: <message>`, more at debug. Every piece is
 * redacted before it is reshaped (collapsed to one line), so that a token holding a line break
 * still matches the secret it is; `redact` also knows the token's collapsed forms and pieces.
 */
async function reportError(err: unknown, stderr: NodeJS.WritableStream, level: LogLevel, secrets: readonly string[]): Promise<void> {
  const debug = level === 'debug';
  const clean = (text: string): string => redact(text, secrets);
  const lines: string[] = [];
  if (err instanceof TapError) {
    lines.push(`tap-gitlab: ${clean(err.message)}`);
    if (debug) {
      lines.push(`  code: ${err.code}`);
      if (err.details) lines.push(...clean(err.details).split('\n').map((l) => `  ${l}`));
    }
  } else {
    const message = clean(err instanceof Error ? err.message : String(err));
    lines.push(`tap-gitlab: unexpected error: ${oneLine(message)}${debug ? '' : ' (run with --log-level debug for details)'}`);
  }
  if (debug) {
    if (err instanceof Error && !(err instanceof TapError) && err.stack) lines.push(clean(err.stack));
    let cause: unknown = err instanceof Error ? err.cause : undefined;
    for (let depth = 0; cause !== undefined && depth < 5; depth++) {
      lines.push(`  caused by: ${clean(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))}`);
      if (cause instanceof Error && cause.stack && !(cause instanceof TapError)) lines.push(clean(cause.stack));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  await write(stderr, `${lines.join('\n')}\n`);
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim().replace(/[.:]$/, '');

/** Writes and waits for the stream to take it; a closed stream (EPIPE) is not an error here. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    try {
      stream.write(text, () => resolve());
    } catch {
      resolve();
    }
  });
}
