/**
 * config.json: the settings table (one source of truth for validation, `--about` and the README),
 * the TypeBox schema of the raw config, string coercion (Fivetran and env values are strings),
 * defaults, and `parseConfig`, which turns raw JSON into the normalised `TapConfig` every module
 * uses. All problems are collected and reported at once in one ConfigError, one sentence each;
 * no sentence ever contains the token's value.
 */
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { ConfigError, redact } from './errors.js';
import { VERSION } from './version.js';
import { toUtcTimestamp } from './time.js';
import { isLoopback } from './gitlab/proxy.js';

/** The normalised config (see notes/contracts.md). */
export interface TapConfig {
  token: string;
  tokenType: 'private' | 'bearer';
  baseUrl: string;
  apiUrl: string;
  autoDiscoverProjects: boolean;
  projectNamePatterns: string[];
  includePrivateProjects: boolean;
  includeArchivedProjects: boolean;
  maxProjectsToSync: number | null;
  projectIds: Array<number | string>;
  startDate: string | null;
  syncProjectsTable: boolean;
  syncMergeRequestsTable: boolean;
  syncUsersTable: boolean;
  maxRecordsPerSync: number | null;
  syncIntervalHours: number;
  pageSize: number;
  concurrency: number;
  requestTimeoutMs: number;
  maxRetries: number;
  userAgent: string;
  discoveryCacheMinutes: number;
  userEnrichment: 'graphql' | 'admin' | 'per_user' | 'none';
  lookbackMinutes: number;
}

export type SettingType = 'string' | 'boolean' | 'integer' | 'number' | 'array';
export type SettingDefault = string | number | boolean | string[] | null;

/** One documented setting. Drives validation, `--about` and the README table. */
export interface ConfigSetting {
  readonly name: string;
  readonly type: SettingType;
  readonly default: SettingDefault;
  /** How the default reads in docs, when the value itself is misleading (e.g. depends on the version). */
  readonly defaultText?: string;
  readonly description: string;
  readonly secret: boolean;
  readonly required: boolean;
  /** Other key names accepted for the same setting (the Singer/Meltano names). */
  readonly aliases: readonly string[];
  /** What the value means (Meltano's kind); not published as a JSON Schema format, which would refuse a blank. */
  readonly format?: 'date-time' | 'uri';
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
}

function setting(s: Partial<ConfigSetting> & Pick<ConfigSetting, 'name' | 'type' | 'default' | 'description'>): ConfigSetting {
  return { secret: false, required: false, aliases: [], ...s };
}

/** Every setting the tap understands, in the order the docs list them. */
export const configSettings: readonly ConfigSetting[] = [
  setting({ name: 'gitlab_token', type: 'string', default: null, secret: true, required: true, aliases: ['private_token'],
    description: 'GitLab personal, group or project access token with the read_api scope. Alias: private_token.' }),
  setting({ name: 'gitlab_token_type', type: 'string', default: 'private', enum: ['private', 'bearer'],
    description: 'How the token is sent: private (PRIVATE-TOKEN header) or bearer (Authorization: Bearer, for OAuth tokens).' }),
  setting({ name: 'gitlab_base_url', type: 'string', format: 'uri', default: 'https://gitlab.com', aliases: ['api_url'],
    description: 'Base URL of the GitLab instance; a trailing /api/v4 is accepted and ignored. Alias: api_url.' }),
  setting({ name: 'auto_discover_projects', type: 'boolean', default: false,
    description: 'Sync every project the token is a member of that matches project_name_pattern.' }),
  setting({ name: 'project_name_pattern', type: 'array', default: ['*'], defaultText: '*',
    description: 'Glob(s) for auto-discovery, matched case-insensitively against the project path or name (against group/path when the glob has a /); comma-separated or a list; a leading ! excludes.' }),
  setting({ name: 'include_private_projects', type: 'boolean', default: true,
    description: 'Auto-discovery also picks private and internal projects.' }),
  setting({ name: 'include_archived_projects', type: 'boolean', default: false,
    description: 'Auto-discovery also picks archived projects.' }),
  setting({ name: 'max_projects_to_sync', type: 'integer', default: null, minimum: 0,
    description: 'Cap on the number of auto-discovered projects; empty or 0 means no cap.' }),
  setting({ name: 'gitlab_project_ids', type: 'array', default: [], defaultText: '',
    description: 'Projects to sync: numeric ids or group/project paths, comma-separated or a list.' }),
  setting({ name: 'start_date', type: 'string', format: 'date-time', default: null,
    description: 'Only merge requests updated at or after this instant (RFC 3339 or YYYY-MM-DD, UTC); empty means all history.' }),
  setting({ name: 'sync_projects_table', type: 'boolean', default: true,
    description: 'Emit the projects stream (when no catalog is given).' }),
  setting({ name: 'sync_merge_requests_table', type: 'boolean', default: true,
    description: 'Emit the merge_requests stream (when no catalog is given).' }),
  setting({ name: 'sync_users_table', type: 'boolean', default: true,
    description: 'Emit the users stream (when no catalog is given).' }),
  setting({ name: 'max_records_per_sync', type: 'integer', default: null, minimum: 0,
    description: 'Stop after this many records (state stays resumable); empty or 0 means no limit.' }),
  setting({ name: 'sync_interval_hours', type: 'number', default: 0, minimum: 0,
    description: 'Skip the run if the last completed sync (from state) is more recent than this; 0 disables the guard.' }),
  setting({ name: 'page_size', type: 'integer', default: 100, minimum: 1, maximum: 100,
    description: 'Items per GitLab API page (1 to 100).' }),
  setting({ name: 'max_concurrency', type: 'integer', default: 4, minimum: 1, maximum: 16,
    description: 'Projects read in parallel (1 to 16).' }),
  setting({ name: 'request_timeout_seconds', type: 'number', default: 60, minimum: 1, maximum: 3600,
    description: 'Timeout of one HTTP request, in seconds.' }),
  setting({ name: 'max_retries', type: 'integer', default: 8, minimum: 0, maximum: 50,
    description: 'Retries of one request on 429, 5xx and network errors before the run fails.' }),
  setting({ name: 'user_agent', type: 'string', default: `tap-gitlab/${VERSION}`, defaultText: 'tap-gitlab/<version>',
    description: 'User-Agent header sent to GitLab.' }),
  setting({ name: 'discovery_cache_minutes', type: 'integer', default: 60, minimum: 0,
    description: 'Reuse the auto-discovered project list kept in state for this long; 0 lists projects on every run.' }),
  setting({ name: 'user_enrichment', type: 'string', default: 'graphql', enum: ['graphql', 'admin', 'per_user', 'none'],
    description: 'How users get profile fields: graphql (batched), admin (GET /users, admin token), per_user (one call each), none.' }),
  setting({ name: 'lookback_minutes', type: 'integer', default: 0, minimum: 0,
    description: 'Re-read merge requests updated this many minutes before the bookmark (guards against late commits).' }),
];

const byName = new Map<string, ConfigSetting>();
for (const s of configSettings) {
  byName.set(s.name, s);
  for (const a of s.aliases) byName.set(a, s);
}

/** The setting a key (canonical name or alias) refers to, if any. */
export function findSetting(key: string): ConfigSetting | undefined {
  return byName.get(key);
}

/** Every key accepted in config.json: canonical names and aliases. */
export const knownConfigKeys: readonly string[] = [...byName.keys()];

// ---------------------------------------------------------------------------------------------
// Raw shape: what each key may hold before coercion (JSON values or the strings Fivetran sends).

function rawSchemaOf(s: ConfigSetting): TSchema {
  switch (s.type) {
    case 'string': return Type.String();
    case 'boolean': return Type.Union([Type.Boolean(), Type.Number(), Type.String()]);
    case 'integer':
    case 'number': return Type.Union([Type.Number(), Type.String()]);
    case 'array': return Type.Union([Type.Array(Type.Union([Type.String(), Type.Number()])), Type.String(), Type.Number()]);
  }
}

/** TypeBox schema of config.json as it may arrive (extra keys allowed: Meltano passes its own). */
export const RawConfigSchema = Type.Object(
  Object.fromEntries([...byName].map(([key, s]) => [key, Type.Optional(Type.Union([rawSchemaOf(s), Type.Null()]))])),
  { additionalProperties: true },
);

const rawValidators = new Map(configSettings.map((s) => [s.name, Compile(rawSchemaOf(s))]));
const isObject = Compile(Type.Record(Type.String(), Type.Unknown()));

// ---------------------------------------------------------------------------------------------
// Coercion helpers. Each returns the value or a sentence fragment saying what was expected.

type Coerced<T> = { ok: true; value: T } | { ok: false; expected: string };
const ok = <T>(value: T): Coerced<T> => ({ ok: true, value });
const bad = <T>(expected: string): Coerced<T> => ({ ok: false, expected });

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

function toBoolean(v: unknown): Coerced<boolean> {
  const expected = 'true or false (or one of the strings "true", "false", "1", "0", "yes", "no")';
  if (typeof v === 'boolean') return ok(v);
  if (v === 1 || v === 0) return ok(v === 1);
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return ok(true);
    if (FALSE_WORDS.has(w)) return ok(false);
  }
  return bad(expected);
}

function toNumber(v: unknown, s: ConfigSetting): Coerced<number> {
  const integer = s.type === 'integer';
  const range = rangeText(s);
  const expected = `${integer ? 'a whole number' : 'a number'}${range} (a JSON number or a string like "${exampleNumber(s)}")`;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && (integer ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)$/).test(v.trim())) n = Number(v.trim());
  else return bad(expected);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return bad(expected);
  if (s.minimum !== undefined && n < s.minimum) return bad(expected);
  if (s.maximum !== undefined && n > s.maximum) return bad(expected);
  return ok(n);
}

function exampleNumber(s: ConfigSetting): number {
  return typeof s.default === 'number' && s.default > 0 ? s.default : (s.maximum ?? 10);
}

function rangeText(s: ConfigSetting): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return ` from ${s.minimum} to ${s.maximum}`;
  if (s.minimum !== undefined) return s.minimum === 0 ? ' of 0 or more' : ` of at least ${s.minimum}`;
  return '';
}

/** Splits on commas outside braces and parentheses, so that a glob's `{a,b}` or `@(a|b)` stays one item. */
function splitTopLevelCommas(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '{' || c === '(') depth += 1;
    else if ((c === '}' || c === ')') && depth > 0) depth -= 1;
    else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items;
}

/** "a, b" / ["a", 4] / '["a", 4]' / 4 → trimmed, non-empty items. */
function toList(v: unknown): Coerced<Array<string | number>> {
  const expected = 'a list or a comma-separated string';
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'number') items = [v];
  else if (typeof v === 'string') {
    const text = v.trim();
    if (text.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (!Array.isArray(parsed)) return bad(expected);
        items = parsed;
      } catch {
        return bad(`${expected} (it starts with "[" but is not a JSON list)`);
      }
    } else items = splitTopLevelCommas(text);
  } else return bad(expected);
  const out: Array<string | number> = [];
  for (const item of items) {
    if (typeof item === 'number') out.push(item);
    else if (typeof item === 'string') {
      const t = item.trim();
      if (t !== '') out.push(t);
    } else return bad(`${expected} of strings or numbers`);
  }
  return ok(out);
}

const PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.+-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.+-]*)+$/;

function toProjectIds(v: unknown): Coerced<Array<number | string>> {
  const list = toList(v);
  if (!list.ok) return bad(`${list.expected} of project ids or group/project paths`);
  const out: Array<number | string> = [];
  for (const item of list.value) {
    const text = String(item);
    if (/^\d+$/.test(text) && Number(text) > 0 && Number.isSafeInteger(Number(text))) out.push(Number(text));
    else if (typeof item === 'string' && PROJECT_PATH.test(item.replace(/^\/+|\/+$/g, ''))) out.push(item.replace(/^\/+|\/+$/g, ''));
    else return bad(`positive numeric project ids or group/project paths (for example "4,5,6" or "my-group/my-project"), but one item is ${describeValue(item, false)}`);
  }
  return ok(out);
}

/**
 * A start date → ISO UTC string; null when not a real instant. Takes what the state does (lib/time.ts): RFC 3339,
 * `+0000` offsets, no offset (UTC, the form singer-python and Meltano's date_iso8601 write) and YYYY-MM-DD (midnight UTC).
 */
export function normaliseStartDate(text: string): string | null {
  return toUtcTimestamp(text);
}

/** Normalises a GitLab base URL; returns a problem fragment when it is not usable. */
function toBaseUrl(v: string): Coerced<{ baseUrl: string; plainHttpRemote: boolean }> {
  const expected = 'an http:// or https:// URL such as "https://gitlab.example.com"';
  let url: URL;
  try {
    url = new URL(v.trim());
  } catch {
    return bad(expected);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad(`${expected} (the scheme "${url.protocol.replace(':', '')}" is not supported)`);
  if (url.username !== '' || url.password !== '') return bad(`${expected} without a user name or password in it (put the token in gitlab_token)`);
  if (url.search !== '' || url.hash !== '') return bad(`${expected} without a query or fragment (put the token in gitlab_token, not in the URL)`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
  return ok({ baseUrl: `${url.origin}${path}`, plainHttpRemote: url.protocol === 'http:' && !isLoopback(url.hostname) });
}

/** GitLab token prefixes (personal, OAuth, deploy, runner, CI job, trigger, feed, ... tokens). */
const GITLAB_TOKEN = /\bgl(?:pat|oas|dt|rt|rtr|cbt|ptt|ft|imt|agent|soat|ffct|tst|wt)-[A-Za-z0-9_.-]+/gi;

/**
 * A config value as it may be quoted: the user info of anything URL-like (whatever precedes an
 * `@` back to the previous slash, backslash or space, with or without a scheme), everything from
 * a `?` or `#` on (query parameters carry tokens) become `***`, as in
 * `https://***@gitlab.example.com/?***`; anything shaped like a GitLab token becomes `[REDACTED]`.
 */
export function maskCredentials(text: string): string {
  return text
    .replace(/(^|[/\\\s])[^/?#\\\s]*@/g, '$1***@')
    .replace(/([?#])[\s\S]*$/, '$1***')
    .replace(GITLAB_TOKEN, '[REDACTED]');
}

/** How a value reads in a problem sentence. Secrets show only their type; credentials in others are masked. */
export function describeValue(v: unknown, secret: boolean): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': {
      if (secret) return v.trim() === '' ? 'an empty string' : 'a string';
      if (v.trim() === '') return 'an empty string';
      const masked = maskCredentials(v);
      const shown = masked.length > 60 ? `${masked.slice(0, 57)}...` : masked;
      return `the string ${JSON.stringify(shown)}`;
    }
    case 'number': return secret ? 'a number' : `the number ${v}`;
    case 'boolean': return secret ? 'a boolean' : `the boolean ${v}`;
    case 'object': return 'an object';
    default: return `a ${typeof v}`;
  }
}

// ---------------------------------------------------------------------------------------------

export interface ConfigCheck {
  config: TapConfig;
  /** Sentences worth a WARN log line: unknown keys, plain http to a remote host. */
  warnings: string[];
}

/**
 * Merges two raw configs, `over` winning. A setting given in `over` under any of its names
 * replaces the same setting under its other names in `base`, so that a later `private_token`
 * overrides an earlier `gitlab_token`; the key names the user wrote are kept for messages.
 */
export function mergeRawConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const key of Object.keys(over)) {
    const s = findSetting(key);
    if (s) for (const name of [s.name, ...s.aliases]) delete out[name];
  }
  return { ...out, ...over };
}

/** Validates and normalises a raw config; returns warnings too. Throws ConfigError listing every problem. */
export function checkConfig(raw: unknown, env?: Record<string, string | undefined>): ConfigCheck {
  if (!isObject.Check(raw)) {
    throw new ConfigError([`The config must be a JSON object of settings, got ${describeValue(raw, false)}.`]);
  }
  const merged = env ? mergeRawConfig(raw, configFromEnvVars(env)) : raw;
  const problems: string[] = [];
  const warnings: string[] = [];

  // 1. Unknown keys warn; aliases given together with their canonical key must agree.
  const values = new Map<string, { key: string; value: unknown }>();
  for (const [key, value] of Object.entries(merged)) {
    const s = findSetting(key);
    if (!s) {
      warnings.push(`Ignoring unknown config key "${key}"${suggestion(key)}.`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const prior = values.get(s.name);
    if (prior && JSON.stringify(prior.value) !== JSON.stringify(value)) {
      problems.push(`${prior.key} and ${key} are the same setting but have different values; keep only one of them.`);
      continue;
    }
    values.set(s.name, { key, value });
  }

  // 2. Per-key shape and coercion.
  const coerced = new Map<string, unknown>();
  const failed = new Set<string>();
  let plainHttpRemote = false;
  /** The key a blank project_name_pattern came under, if one did. */
  let blankPattern: string | null = null;
  for (const s of configSettings) {
    const entry = values.get(s.name);
    if (!entry) continue;
    const { key, value } = entry;
    const fail = (expected: string): void => {
      failed.add(s.name);
      problems.push(`${key} must be ${expected}, got ${describeValue(value, s.secret)}.`);
    };
    if (!rawValidators.get(s.name)?.Check(value)) {
      fail(expectedType(s));
      continue;
    }
    // Blank strings mean "not set" (Fivetran forms send "" for every empty field); a blank token is a mistake.
    if (typeof value === 'string' && value.trim() === '' && !s.secret) {
      if (s.name === 'project_name_pattern') blankPattern = key;
      continue;
    }
    switch (s.type) {
      case 'boolean': {
        const r = toBoolean(value);
        if (r.ok) coerced.set(s.name, r.value); else fail(r.expected);
        break;
      }
      case 'integer':
      case 'number': {
        const r = toNumber(value, s);
        if (r.ok) coerced.set(s.name, r.value); else fail(r.expected);
        break;
      }
      case 'array': {
        if (s.name === 'gitlab_project_ids') {
          const r = toProjectIds(value);
          if (r.ok) coerced.set(s.name, r.value); else fail(r.expected);
        } else {
          const r = toList(value);
          if (!r.ok) fail(r.expected);
          else if (r.value.length === 0) {
            failed.add(s.name);
            problems.push(`${key} is empty; give at least one glob such as "my-group/*", or leave the key out to match every project.`);
          } else coerced.set(s.name, r.value.map(String));
        }
        break;
      }
      case 'string': {
        const text = String(value).trim();
        if (s.secret) {
          const wrong = text === '' ? null : tokenProblem(text);
          if (text === '') problems.push(`${key} is empty; set it to a GitLab access token with the read_api scope.`);
          else if (wrong !== null) {
            failed.add(s.name);
            problems.push(`${key} ${wrong}`);
          } else coerced.set(s.name, text);
        } else if (s.enum) {
          const lower = text.toLowerCase();
          if (s.enum.includes(lower)) coerced.set(s.name, lower); else fail(`one of ${s.enum.map((e) => `"${e}"`).join(', ')}`);
        } else if (s.name === 'gitlab_base_url') {
          const r = toBaseUrl(text);
          if (!r.ok) fail(r.expected);
          else {
            coerced.set(s.name, r.value.baseUrl);
            plainHttpRemote = r.value.plainHttpRemote;
          }
        } else if (s.name === 'start_date') {
          const iso = normaliseStartDate(text);
          if (iso === null) fail('an RFC 3339 date-time such as "2024-01-31T00:00:00Z" or a date such as "2024-01-31"');
          else coerced.set(s.name, iso);
        } else coerced.set(s.name, text);
        break;
      }
    }
  }

  // 3. Whole-config rules.
  if (!values.has('gitlab_token')) {
    problems.push('gitlab_token is missing; set it (or private_token, or the TAP_GITLAB_GITLAB_TOKEN variable with --config ENV) to a GitLab access token with the read_api scope.');
  }
  const get = <T>(name: string): T => (coerced.has(name) ? coerced.get(name) : findSetting(name)?.default) as T;
  const nothingToSync = !get<boolean>('auto_discover_projects') && get<unknown[]>('gitlab_project_ids').length === 0;
  if (nothingToSync && !failed.has('gitlab_project_ids') && !failed.has('auto_discover_projects')) {
    problems.push('Nothing to sync: gitlab_project_ids is empty and auto_discover_projects is false; set gitlab_project_ids (for example "4,5,6" or "my-group/my-project") or set auto_discover_projects to true.');
  }
  const tables = ['sync_projects_table', 'sync_merge_requests_table', 'sync_users_table'];
  if (tables.every((n) => get<boolean>(n) === false)) {
    problems.push('sync_projects_table, sync_merge_requests_table and sync_users_table are all false, so no stream would be synced; set at least one of them to true.');
  }
  // Belt and braces: whatever a sentence quotes, it never holds a secret's value (or a piece of it).
  const secrets = Object.entries(merged).flatMap(([key, value]) => (findSetting(key)?.secret && typeof value === 'string' ? [value] : []));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => redact(p, secrets)));

  if (plainHttpRemote) {
    warnings.push(`gitlab_base_url uses plain http:// to a remote host; the token will travel unencrypted. Use https:// unless this is a trusted network.`);
  }
  const baseUrl = get<string>('gitlab_base_url');
  const capOrNull = (name: string): number | null => {
    const n = get<number | null>(name);
    return n === null || n === 0 ? null : n;
  };
  const config: TapConfig = {
    token: get<string>('gitlab_token'),
    tokenType: get<'private' | 'bearer'>('gitlab_token_type'),
    baseUrl,
    apiUrl: `${baseUrl}/api/v4`,
    autoDiscoverProjects: get<boolean>('auto_discover_projects'),
    projectNamePatterns: [...get<string[]>('project_name_pattern')],
    includePrivateProjects: get<boolean>('include_private_projects'),
    includeArchivedProjects: get<boolean>('include_archived_projects'),
    maxProjectsToSync: capOrNull('max_projects_to_sync'),
    projectIds: [...get<Array<number | string>>('gitlab_project_ids')],
    startDate: get<string | null>('start_date'),
    syncProjectsTable: get<boolean>('sync_projects_table'),
    syncMergeRequestsTable: get<boolean>('sync_merge_requests_table'),
    syncUsersTable: get<boolean>('sync_users_table'),
    maxRecordsPerSync: capOrNull('max_records_per_sync'),
    syncIntervalHours: get<number>('sync_interval_hours'),
    pageSize: get<number>('page_size'),
    concurrency: get<number>('max_concurrency'),
    requestTimeoutMs: Math.round(get<number>('request_timeout_seconds') * 1000),
    maxRetries: get<number>('max_retries'),
    userAgent: get<string>('user_agent'),
    discoveryCacheMinutes: get<number>('discovery_cache_minutes'),
    userEnrichment: get<TapConfig['userEnrichment']>('user_enrichment'),
    lookbackMinutes: get<number>('lookback_minutes'),
  };
  // Said only where it matters: with project ids and no auto-discovery the pattern is not used at all.
  if (blankPattern !== null && config.autoDiscoverProjects) warnings.push(`${blankPattern} is blank, so it is taken as not set: auto-discovery matches every project.`);
  return { config, warnings: warnings.map((w) => redact(w, secrets)) };
}

/**
 * What is wrong with a (trimmed, non-empty) token that cannot travel in an HTTP header, as the
 * end of a sentence starting with the key; null when it is fine. Never quotes the token.
 */
function tokenProblem(token: string): string | null {
  if (/[\r\n]/.test(token)) return 'has a line break inside it (a wrapped value?); put the token on one line, with no spaces or line breaks.';
  if (/\s/.test(token)) return 'has a space or tab inside it; remove it: a token is one word, with no spaces or line breaks.';
  if (/[\x00-\x1f\x7f]/.test(token)) return 'has a control character inside it; copy the token again: a token holds only printable characters.';
  if (/[^\x21-\x7e]/.test(token)) return 'has a character that is not plain ASCII inside it (a typographic dash or quote?); copy the token again from GitLab.';
  return null;
}

/**
 * Validates and normalises a raw config (a parsed config.json, or merged files). When `env` is
 * given, its TAP_GITLAB_* variables override the raw values. Throws ConfigError.
 */
export function parseConfig(raw: unknown, env?: Record<string, string | undefined>): TapConfig {
  return checkConfig(raw, env).config;
}

/** TAP_GITLAB_<KEY> variables (Meltano's convention) as a raw config object of strings. */
export function configFromEnvVars(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of knownConfigKeys) {
    const value = env[`TAP_GITLAB_${key.toUpperCase()}`];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function expectedType(s: ConfigSetting): string {
  switch (s.type) {
    case 'boolean': return 'true or false (a JSON boolean or a string like "true")';
    case 'integer': return `a whole number${rangeText(s)} (a JSON number or a string like "${exampleNumber(s)}")`;
    case 'number': return `a number${rangeText(s)} (a JSON number or a string like "${exampleNumber(s)}")`;
    case 'array': return 'a list or a comma-separated string';
    case 'string': return s.secret ? 'a string (a GitLab access token)' : 'a string';
  }
}

/** ` (did you mean "x"?)` for a near miss, else ''. */
function suggestion(key: string): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const known of knownConfigKeys) {
    const d = editDistance(key.toLowerCase(), known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best === null ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
