/**
 * The tap's state: per-project bookmarks in the Meltano SDK partition layout, a cache of the
 * discovered project ids, and the time of the last complete sync. `parseState` accepts `{}`, the
 * tap's own STATE value, Meltano's `{"singer_state": …}` wrapper and the singer-io layout
 * `bookmarks.<stream>.<project_id>`; it keeps keys it does not know and ignores what it cannot use.
 * Bookmarks only move forward.
 */
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { StateError } from '../errors.js';
import { compareTimestamps, toUtcTimestamp } from '../time.js';

/** Streams with per-project bookmarks (`users` holds the merge-request cursor of users-only runs). */
export type BookmarkStream = 'projects' | 'merge_requests' | 'users';

export interface Partition {
  readonly context: { readonly project_id: number };
  readonly replication_key: 'updated_at';
  readonly replication_key_value: string;
  /**
   * Ids already emitted whose updated_at equals the bookmark. GitLab's updated_after is inclusive,
   * so the next run re-reads these rows; knowing them avoids emitting them again (and lets a
   * chunked run get past a bulk edit wider than its budget). Omitted when it would be large.
   */
  readonly ids_at_cursor?: readonly number[];
}

/** A partition this tap cannot use (another tap's, keyed by path, another replication key): kept and printed back as it came. */
export type ForeignPartition = Readonly<Record<string, unknown>>;
type StoredPartition = Partition | ForeignPartition;

/** A partition of this tap's: a numeric project id, `updated_at`, a timestamp. */
function isOurs(p: StoredPartition): p is Partition {
  const c = p.context;
  return p.replication_key === 'updated_at' && typeof p.replication_key_value === 'string' && typeof c === 'object' && c !== null && typeof (c as { project_id?: unknown }).project_id === 'number';
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Above this many ids at one timestamp the list is not kept: those rows are re-read instead. */
export const MAX_IDS_AT_CURSOR = 1000;

export interface TapState {
  version: 1;
  bookmarks: {
    projects?: { partitions: readonly StoredPartition[] };
    merge_requests?: { partitions: readonly StoredPartition[] };
    users?: { partitions: readonly StoredPartition[] };
    [k: string]: unknown;
  };
  discovery?: { readonly fingerprint: string; readonly listed_at: string; readonly project_ids: readonly number[] };
  last_sync_completed_at?: string;
  currently_syncing?: string | null;
  [k: string]: unknown;
}

export const STATE_VERSION = 1;
const BOOKMARK_STREAMS: readonly BookmarkStream[] = ['projects', 'merge_requests', 'users'];

const Discovery = Type.Object({
  fingerprint: Type.String(),
  listed_at: Type.String(),
  project_ids: Type.Array(Type.Integer()),
});
const checkDiscovery = Compile(Discovery);

/** A state with no bookmarks. */
export function emptyState(): TapState {
  return { version: 1, bookmarks: {} };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * Validates a parsed `--state` file. Throws StateError (one sentence) when it is not an object,
 * has another `version`, or carries malformed partitions; otherwise returns a TapState with
 * normalised (UTC `Z`) bookmark values and every unknown key kept.
 */
export function parseState(json: unknown): TapState {
  if (!isObject(json)) throw new StateError(`The state must be a JSON object, but it is ${kind(json)}.`);
  let src = json;
  const keys = Object.keys(src);
  if (keys.length === 1 && keys[0] === 'singer_state' && isObject(src.singer_state)) src = src.singer_state;
  // A whole STATE line kept instead of its value (`tail -1 out.jsonl > state.json`): its value is the state. Read as
  // it is, it would be a state without bookmarks (a full re-sync), with the line nested into every STATE printed.
  else if (keys.length === 2 && src.type === 'STATE' && isObject(src.value)) src = src.value;

  if (src.version !== undefined && src.version !== STATE_VERSION) {
    throw new StateError(
      `The state has version ${JSON.stringify(src.version)}, but this tap reads version ${STATE_VERSION} only; use a state written by this tap or start without --state.`,
    );
  }
  const bookmarksIn = src.bookmarks ?? {};
  if (!isObject(bookmarksIn)) throw new StateError(`The state's "bookmarks" must be an object, but it is ${kind(bookmarksIn)}.`);

  const bookmarks: TapState['bookmarks'] = { ...bookmarksIn };
  for (const stream of BOOKMARK_STREAMS) {
    const entry = bookmarksIn[stream];
    if (entry === undefined) continue;
    const parsed = parseStreamBookmarks(stream, entry);
    if (parsed === null) delete bookmarks[stream];
    else bookmarks[stream] = parsed;
  }

  const out: TapState = { ...src, version: 1, bookmarks };
  if (src.discovery !== undefined && !checkDiscovery.Check(src.discovery)) delete out.discovery;
  if (src.last_sync_completed_at !== undefined) {
    const t = typeof src.last_sync_completed_at === 'string' ? toUtcTimestamp(src.last_sync_completed_at) : null;
    if (t === null) delete out.last_sync_completed_at;
    else out.last_sync_completed_at = t;
  }
  if (src.currently_syncing !== undefined && src.currently_syncing !== null && typeof src.currently_syncing !== 'string') {
    delete out.currently_syncing;
  }
  return out;
}

/**
 * One stream's bookmarks: our/Meltano `{partitions: [...]}` or singer-io `{"<project_id>": value}`.
 * Returns null when nothing in it is usable; keeps unknown keys next to `partitions`.
 */
function parseStreamBookmarks(stream: BookmarkStream, entry: unknown): ({ partitions: readonly StoredPartition[] } & Record<string, unknown>) | null {
  if (!isObject(entry)) {
    throw new StateError(`The state's "bookmarks.${stream}" must be an object, but it is ${kind(entry)}.`);
  }
  const rest: Record<string, unknown> = {};
  const partitions: StoredPartition[] = [];
  const add = (p: StoredPartition): void => {
    if (!isOurs(p)) {
      partitions.push(p);
      return;
    }
    const i = partitions.findIndex((q) => isOurs(q) && q.context.project_id === p.context.project_id);
    if (i < 0) partitions.push(p);
    else if (compareTimestamps(p.replication_key_value, (partitions[i] as Partition).replication_key_value) > 0) partitions[i] = p;
  };

  for (const [key, value] of Object.entries(entry)) {
    if (key === 'partitions') {
      if (!Array.isArray(value)) {
        throw new StateError(`The state's "bookmarks.${stream}.partitions" must be an array, but it is ${kind(value)}.`);
      }
      value.forEach((p, i) => add(parsePartition(stream, i, p)));
    } else if (/^\d+$/.test(key)) {
      // singer-io layout: bookmarks.<stream>.<project_id> = "timestamp" or {"updated_at"|"since"|…: "timestamp"}
      const raw = isObject(value) ? (value.updated_at ?? value.since ?? value.replication_key_value) : value;
      const t = typeof raw === 'string' ? toUtcTimestamp(raw) : null;
      if (t !== null) add(partition(Number(key), t));
      else rest[key] = value;
    } else {
      rest[key] = value;
    }
  }
  if (partitions.length === 0 && Object.keys(rest).length === 0 && !('partitions' in entry)) return null;
  return { ...rest, partitions: Object.freeze(partitions) };
}

/** One partition: this tap's (validated), or another's kept as it came. */
function parsePartition(stream: BookmarkStream, i: number, p: unknown): StoredPartition {
  const where = `"bookmarks.${stream}.partitions[${i}]"`;
  if (!isObject(p)) throw new StateError(`The state's ${where} must be an object, but it is ${kind(p)}.`);
  if (!isObject(p.context)) throw new StateError(`The state's ${where} needs a "context" object, but it is ${kind(p.context)}.`);
  const rawId = p.context.project_id;
  // A partition of another tap (e.g. keyed by project path) is not usable here: kept as it came.
  const foreign = (): ForeignPartition => deepFreeze(structuredClone(p));
  if (rawId === undefined) return foreign();
  const id = typeof rawId === 'string' && /^\d+$/.test(rawId) ? Number(rawId) : rawId;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new StateError(`The state's ${where}.context.project_id must be a positive integer, but it is ${JSON.stringify(rawId)}.`);
  }
  if (p.replication_key !== undefined && p.replication_key !== 'updated_at') return foreign();
  if (p.replication_key_value === undefined || p.replication_key_value === null) return foreign();
  const t = typeof p.replication_key_value === 'string' ? toUtcTimestamp(p.replication_key_value) : null;
  if (t === null) {
    throw new StateError(
      `The state's ${where}.replication_key_value must be an RFC 3339 timestamp, but it is ${JSON.stringify(p.replication_key_value)}.`,
    );
  }
  const ids = Array.isArray(p.ids_at_cursor) && p.ids_at_cursor.every((x) => Number.isSafeInteger(x)) ? (p.ids_at_cursor as number[]) : undefined;
  return partition(id, t, ids);
}

/** A new partition, frozen: STATE serialisation reuses the text of partitions that cannot change (state-json.ts). */
function partition(projectId: number, value: string, ids?: readonly number[]): Partition {
  const context = Object.freeze({ project_id: projectId });
  const keep = ids !== undefined && ids.length > 0 && ids.length <= MAX_IDS_AT_CURSOR;
  return Object.freeze<Partition>(
    keep
      ? { context, replication_key: 'updated_at', replication_key_value: value, ids_at_cursor: Object.freeze([...ids].sort((a, b) => a - b)) }
      : { context, replication_key: 'updated_at', replication_key_value: value },
  );
}

function ourPartition(state: TapState, stream: BookmarkStream, projectId: number): Partition | undefined {
  return state.bookmarks[stream]?.partitions.find((p): p is Partition => isOurs(p) && p.context.project_id === projectId);
}

/** Ids already emitted at the project's bookmark timestamp (see Partition.ids_at_cursor). */
export function getBookmarkIds(state: TapState, stream: BookmarkStream, projectId: number): readonly number[] {
  return ourPartition(state, stream, projectId)?.ids_at_cursor ?? [];
}

/** The bookmark of one project in one stream, or null when there is none. */
export function getBookmark(state: TapState, stream: BookmarkStream, projectId: number): string | null {
  return ourPartition(state, stream, projectId)?.replication_key_value ?? null;
}

/**
 * Returns a new state with the project's bookmark set to `value` (normalised to UTC `Z`) — only
 * if it is later than the current one: bookmarks never move backwards. Throws StateError for a
 * value that is not a timestamp. The given state is not modified.
 */
export function setBookmark(state: TapState, stream: BookmarkStream, projectId: number, value: string, idsAtCursor?: readonly number[]): TapState {
  const t = toUtcTimestamp(value);
  if (t === null) throw new StateError(`Cannot store bookmark "${value}" for project ${projectId}: it is not an RFC 3339 timestamp.`);
  const current = getBookmark(state, stream, projectId);
  if (current !== null) {
    const order = compareTimestamps(t, current);
    if (order < 0) return state;
    // Same timestamp: only the list of ids emitted at it can grow.
    if (order === 0 && (idsAtCursor === undefined || idsAtCursor.length <= getBookmarkIds(state, stream, projectId).length)) return state;
  }
  const entry = state.bookmarks[stream];
  const parts = entry?.partitions ?? [];
  const next = partition(projectId, t, idsAtCursor);
  const i = parts.findIndex((p) => isOurs(p) && p.context.project_id === projectId);
  const partitions = Object.freeze(i < 0 ? [...parts, next] : parts.map((p, j) => (j === i ? next : p)));
  return { ...state, bookmarks: { ...state.bookmarks, [stream]: { ...entry, partitions } } };
}
