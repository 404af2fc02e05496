/**
 * Where the raw config comes from: the `--config` sources in order (JSON files, or the word `ENV`
 * for TAP_GITLAB_* variables), merged so that later sources win. Also the JSON file reader the CLI
 * uses for --state and --catalog: errors name the file and the line and column, never echo the
 * file's content (it may hold the token).
 */
import { InputFileError } from './errors.js';
import { configFromEnvVars, mergeRawConfig } from './config.js';

export type ReadFile = (path: string) => Promise<string>;
type FileCode = 'CONFIG_FILE' | 'STATE_FILE' | 'CATALOG_FILE';

const WHAT: Record<FileCode, string> = { CONFIG_FILE: 'config', STATE_FILE: 'state', CATALOG_FILE: 'catalog' };

/** Reads and parses a JSON file. InputFileError when it is missing, unreadable, empty or not JSON. */
export async function readJsonFile(path: string, code: FileCode, readFile: ReadFile): Promise<unknown> {
  const what = WHAT[code];
  let text: string;
  try {
    text = await readFile(path);
  } catch (err) {
    const sys = (err as { code?: unknown }).code;
    const why = sys === 'ENOENT' ? 'does not exist' : sys === 'EACCES' ? 'is not readable (permission denied)' : sys === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw new InputFileError(code, `The ${what} file ${path} ${why}.`, { cause: err });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new InputFileError(code, `The ${what} file ${path} is empty; it must hold a JSON object.`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputFileError(code, `The ${what} file ${path} is not valid JSON: ${jsonProblem(text, err)}.`);
  }
}

/** "<reason> at line L, column C" from V8's message, without the snippet of content V8 may quote. */
function jsonProblem(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const at = /^(.*?) in JSON at position (\d+)/.exec(msg);
  if (at) return `${lowerFirst(at[1] ?? 'syntax error')} at ${lineColumn(text, Number(at[2]))}`;
  if (/Unexpected end of JSON input/.test(msg)) return `it ends too early, at ${lineColumn(text, text.length)}`;
  const token = /^Unexpected token '(.)'/.exec(msg);
  if (token) {
    // Position the first occurrence of that token outside strings (good enough for a hint).
    return `unexpected character '${token[1] === "'" ? "\\'" : token[1]}' at ${lineColumn(text, firstBadToken(text, token[1] ?? ''))}`;
  }
  return 'syntax error';
}

function firstBadToken(text: string, ch: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ch) return i;
  }
  return 0;
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * Merges the `--config` sources in order, later wins. `ENV` (any case) reads TAP_GITLAB_*
 * variables; anything else is a JSON file that must hold an object. A later `private_token`
 * overrides an earlier `gitlab_token` (see mergeRawConfig).
 */
export async function loadRawConfig(
  sources: readonly string[],
  deps: { readFile: ReadFile; env: Record<string, string | undefined> },
): Promise<Record<string, unknown>> {
  let merged: Record<string, unknown> = {};
  for (const source of sources) {
    let raw: unknown;
    if (source.toUpperCase() === 'ENV') raw = configFromEnvVars(deps.env);
    else raw = await readJsonFile(source, 'CONFIG_FILE', deps.readFile);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new InputFileError('CONFIG_FILE', `The config file ${source} must hold a JSON object of settings, not ${Array.isArray(raw) ? 'a list' : raw === null ? 'null' : `a ${typeof raw}`}.`);
    }
    merged = mergeRawConfig(merged, raw as Record<string, unknown>);
  }
  return merged;
}
