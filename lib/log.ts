/**
 * The stderr logger. Never writes to stdout: stdout is for Singer messages only.
 * Lines look like `2024-05-01T10:00:00.000Z INFO message`; metrics follow Singer's
 * `INFO METRIC: {...}` convention. Every line passes through `redact` with the secrets
 * registered at start-up, so a token can never reach stderr by mistake.
 */
import { redact } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Singer metric line (counter or timer) at info level. */
  metric(m: { type: 'counter' | 'timer'; metric: string; value: number; tags?: Record<string, string | number> }): void;
}

export interface LoggerOptions {
  level: LogLevel;
  write: (line: string) => void;
  now?: () => Date;
  secrets?: readonly string[];
}

export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const secrets = opts.secrets ?? [];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string): void => {
    if (ORDER[lvl] < ORDER[opts.level]) return;
    opts.write(`${now().toISOString()} ${lvl.toUpperCase()} ${redact(msg, secrets)}\n`);
  };
  return {
    level: opts.level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    metric: (m) => emit('info', `METRIC: ${JSON.stringify(m)}`),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(l.trimEnd()), now: () => new Date(0) });
  return Object.assign(logger, { lines });
}

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}
