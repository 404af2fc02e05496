/**
 * The Singer catalog: the stream definitions, what `--discover` prints, validation of a
 * `--catalog`/`--properties` file, and stream/field selection (Singer + Meltano rules; see
 * selection.ts). The catalog never depends on the GitLab instance, so discovery is offline.
 */
import { Type, type Static, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import { CatalogError } from '../errors.js';
import { mergeRequestSchema } from '../streams/merge-requests-schema.js';
import { projectSchema } from '../streams/projects-schema.js';
import { userSchema } from '../streams/users-schema.js';
import { plainSchema } from './schema-helpers.js';
import { deselectedFields, isStreamSelected, type MetadataIndex } from './selection.js';

export type StreamName = 'projects' | 'merge_requests' | 'users';

export interface StreamDefinition {
  name: StreamName;
  schema: TObject;
  keyProperties: string[];
  replicationKey: string | null;
  replicationMethod: 'INCREMENTAL' | 'FULL_TABLE';
}

/** The streams, in the order they are synced. */
export const STREAMS: readonly StreamDefinition[] = [
  { name: 'projects', schema: projectSchema, keyProperties: ['id'], replicationKey: 'updated_at', replicationMethod: 'INCREMENTAL' },
  { name: 'merge_requests', schema: mergeRequestSchema, keyProperties: ['id'], replicationKey: 'updated_at', replicationMethod: 'INCREMENTAL' },
  { name: 'users', schema: userSchema, keyProperties: ['id'], replicationKey: null, replicationMethod: 'FULL_TABLE' },
];

const MetadataEntry = Type.Object({
  breadcrumb: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});
const CatalogEntry = Type.Object({
  tap_stream_id: Type.Optional(Type.String()),
  stream: Type.Optional(Type.String()),
  table_name: Type.Optional(Type.String()),
  schema: Type.Record(Type.String(), Type.Unknown()),
  key_properties: Type.Optional(Type.Array(Type.String())),
  replication_key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  replication_method: Type.Optional(Type.String()),
  metadata: Type.Optional(Type.Array(MetadataEntry)),
});
const Catalog = Type.Object({ streams: Type.Array(CatalogEntry) });
const checkCatalog = Compile(Catalog);

export type CatalogMetadataEntry = Static<typeof MetadataEntry>;
export type CatalogEntry = Static<typeof CatalogEntry>;
export interface SingerCatalog {
  streams: CatalogEntry[];
}

/** The switches that decide the streams when no catalog is given (a subset of TapConfig). */
export interface TableSwitches {
  syncProjectsTable: boolean;
  syncMergeRequestsTable: boolean;
  syncUsersTable: boolean;
}

export interface StreamSelection {
  stream: StreamName;
  /** Selected top-level fields; null means all. */
  fields: Set<string> | null;
  /** The stream's schema pruned to the selected fields (what SCHEMA prints). */
  schema: object;
  keyProperties: string[];
  replicationKey: string | null;
}

function automaticFields(def: StreamDefinition): string[] {
  return def.replicationKey ? [...def.keyProperties, def.replicationKey] : [...def.keyProperties];
}

/** The Singer catalog `--discover` prints: every stream, selected by default. */
export function buildCatalog(): SingerCatalog {
  return {
    streams: STREAMS.map((def) => {
      const schema = plainSchema(def.schema);
      const automatic = new Set(automaticFields(def));
      const streamMeta: Record<string, unknown> = {
        inclusion: 'available',
        'selected-by-default': true,
        'table-key-properties': [...def.keyProperties],
        'valid-replication-keys': def.replicationKey ? [def.replicationKey] : [],
        'forced-replication-method': def.replicationMethod,
      };
      if (def.replicationKey) streamMeta['replication-key'] = def.replicationKey;
      const metadata: CatalogMetadataEntry[] = [{ breadcrumb: [], metadata: streamMeta }];
      for (const field of Object.keys(def.schema.properties)) {
        metadata.push({
          breadcrumb: ['properties', field],
          metadata: { inclusion: automatic.has(field) ? 'automatic' : 'available', 'selected-by-default': true },
        });
      }
      const entry: CatalogEntry = {
        tap_stream_id: def.name,
        stream: def.name,
        schema,
        key_properties: [...def.keyProperties],
        replication_method: def.replicationMethod,
        metadata,
      };
      if (def.replicationKey) entry.replication_key = def.replicationKey;
      return entry;
    }),
  };
}

/**
 * Validates a parsed catalog file. Throws CatalogError with one sentence naming the problem
 * (wrong shape, a stream without an id, a duplicate stream, a `selected` that is not a boolean).
 */
export function parseCatalog(json: unknown): SingerCatalog {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CatalogError(`The catalog must be a JSON object with a "streams" list, but it is ${json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`}.`);
  }
  if (!checkCatalog.Check(json)) {
    const errors = checkCatalog.Errors(json);
    const first = errors[0];
    const path = pointerToPath(first?.instancePath ?? '');
    const missing = (first?.params as { requiredProperties?: unknown } | undefined)?.requiredProperties;
    if (first?.keyword === 'required' && Array.isArray(missing)) {
      throw new CatalogError(`The catalog's ${path ? `${path} ` : ''}is missing "${String(missing[0])}".`);
    }
    const problem = (first?.message ?? 'is not valid').replace(/^must be (array|object|string|boolean|integer|number)\b/, (_m, t: string) => `must be ${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`);
    throw new CatalogError(`The catalog's ${path || 'top level'} ${problem}.`);
  }
  const catalog = json as SingerCatalog;
  const seen = new Set<string>();
  catalog.streams.forEach((entry, i) => {
    const id = entry.tap_stream_id ?? entry.stream;
    if (id === undefined) throw new CatalogError(`The catalog's streams[${i}] has neither "tap_stream_id" nor "stream".`);
    if (seen.has(id)) throw new CatalogError(`The catalog lists stream "${id}" twice.`);
    seen.add(id);
    (entry.metadata ?? []).forEach((m, j) => {
      const sel = m.metadata.selected;
      if (sel !== undefined && typeof sel !== 'boolean' && sel !== 'true' && sel !== 'false') {
        throw new CatalogError(
          `The catalog's streams[${i}].metadata[${j}] ("${id}" ${m.breadcrumb.join('.') || 'stream'}) has "selected": ${JSON.stringify(sel)}; use true or false.`,
        );
      }
    });
  });
  return catalog;
}

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/**
 * Which streams to sync and which of their fields to emit. With a catalog: Singer/Meltano
 * selection rules (metadata `selected`, legacy `schema.selected`, automatic fields always kept,
 * unsupported never). Without one: the `sync_*_table` switches, all fields. Order follows STREAMS.
 */
export function selectStreams(catalog: SingerCatalog | null, config: TableSwitches): StreamSelection[] {
  if (catalog === null) {
    const on: Record<StreamName, boolean> = {
      projects: config.syncProjectsTable,
      merge_requests: config.syncMergeRequestsTable,
      users: config.syncUsersTable,
    };
    return STREAMS.filter((d) => on[d.name]).map((d) => fullSelection(d));
  }
  const byId = new Map<string, CatalogEntry>();
  for (const entry of catalog.streams) byId.set(entry.tap_stream_id ?? entry.stream ?? '', entry);
  const known = new Set<string>(STREAMS.map((d) => d.name));
  for (const [id, entry] of byId) {
    if (!known.has(id) && isStreamSelected(indexOf(entry), legacySelected(entry))) {
      throw new CatalogError(`The catalog selects stream "${id}", which tap-gitlab does not have (it has ${[...known].join(', ')}).`);
    }
  }
  const out: StreamSelection[] = [];
  for (const def of STREAMS) {
    const entry = byId.get(def.name);
    if (!entry) continue;
    const index = indexOf(entry);
    if (!isStreamSelected(index, legacySelected(entry))) continue;
    const full = plainSchema(def.schema);
    const deselected = deselectedFields(index, full, automaticFields(def));
    const pruned = pruneSchema(full, deselected);
    const allSelected = deselected.length === 0;
    out.push({
      stream: def.name,
      fields: allSelected ? null : new Set(Object.keys((pruned.properties ?? {}) as Record<string, unknown>)),
      schema: pruned,
      keyProperties: [...def.keyProperties],
      replicationKey: def.replicationKey,
    });
  }
  // As with every sync_*_table switch false: a run that syncs nothing would still be recorded as a completed sync.
  if (out.length === 0) {
    throw new CatalogError(
      `The catalog selects no stream, so there is nothing to sync; mark at least one of ${STREAMS.map((d) => d.name).join(', ')} selected (metadata "selected": true at breadcrumb []), or check the select rules that wrote it.`,
    );
  }
  return out;
}

function fullSelection(def: StreamDefinition): StreamSelection {
  return { stream: def.name, fields: null, schema: plainSchema(def.schema), keyProperties: [...def.keyProperties], replicationKey: def.replicationKey };
}

function indexOf(entry: CatalogEntry): MetadataIndex {
  const index: MetadataIndex = new Map();
  for (const m of entry.metadata ?? []) index.set(m.breadcrumb.join('\u0000'), m.metadata);
  return index;
}

function legacySelected(entry: CatalogEntry): boolean | undefined {
  const s = entry.schema.selected;
  if (s === true || s === 'true') return true;
  if (s === false || s === 'false') return false;
  return undefined;
}

/** Removes deselected breadcrumbs (`properties.x`, `properties.x.properties.y`) from a plain schema copy. */
function pruneSchema(schema: Record<string, unknown>, deselected: string[][]): Record<string, unknown> {
  for (const crumb of deselected) {
    let node: Record<string, unknown> | undefined = schema;
    for (let i = 0; node && i < crumb.length - 1; i++) {
      const next: unknown = node[crumb[i] ?? ''];
      node = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
    }
    if (node) delete node[crumb[crumb.length - 1] ?? ''];
  }
  return schema;
}

/**
 * Keeps only the selected fields of a record (nested objects pruned too). With every field
 * selected the record is returned as it is.
 */
export function projectRecord(record: Record<string, unknown>, sel: StreamSelection): Record<string, unknown> {
  if (sel.fields === null) return record;
  return projectObject(record, sel.schema as Record<string, unknown>);
}

function projectObject(value: Record<string, unknown>, schema: Record<string, unknown>): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(props)) {
    const v = value[name];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && sub.properties) {
      out[name] = projectObject(v as Record<string, unknown>, sub);
    } else {
      out[name] = v === undefined ? null : v;
    }
  }
  return out;
}
