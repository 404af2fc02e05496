import t from 'tap';
import { readFileSync } from 'node:fs';
import { CatalogError } from '../lib/errors.js';
import { STREAMS, buildCatalog, parseCatalog, projectRecord, selectStreams, type SingerCatalog } from '../lib/singer/catalog.js';
import { checkSchema } from '../lib/singer/schema-contract.js';
import { toProjectRecord } from '../lib/streams/projects-schema.js';

const allOn = { syncProjectsTable: true, syncMergeRequestsTable: true, syncUsersTable: true };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

t.test('catalog/catalog.json is what buildCatalog prints (run `npm run catalog` when this fails)', async (t) => {
  const checkedIn: unknown = JSON.parse(readFileSync(new URL('../catalog/catalog.json', import.meta.url), 'utf8'));
  t.same(checkedIn, clone(buildCatalog()), 'catalog/catalog.json is stale: run `npm run catalog` and commit the result');
});

t.test('the catalog has the three streams with keys, replication and stream metadata', async (t) => {
  const c = buildCatalog();
  t.same(
    c.streams.map((s) => [s.tap_stream_id, s.stream, s.key_properties, s.replication_key ?? null, s.replication_method]),
    [
      ['projects', 'projects', ['id'], 'updated_at', 'INCREMENTAL'],
      ['merge_requests', 'merge_requests', ['id'], 'updated_at', 'INCREMENTAL'],
      ['users', 'users', ['id'], null, 'FULL_TABLE'],
    ],
  );
  const mr = c.streams[1];
  t.same(mr?.metadata?.[0], {
    breadcrumb: [],
    metadata: {
      inclusion: 'available',
      'selected-by-default': true,
      'table-key-properties': ['id'],
      'valid-replication-keys': ['updated_at'],
      'forced-replication-method': 'INCREMENTAL',
      'replication-key': 'updated_at',
    },
  });
  const users = c.streams[2];
  t.same(users?.metadata?.[0]?.metadata['valid-replication-keys'], []);
  t.equal(users?.metadata?.[0]?.metadata['forced-replication-method'], 'FULL_TABLE');
});

t.test('keys and replication keys are automatic, every other field available and selected by default', async (t) => {
  for (const entry of buildCatalog().streams) {
    const def = STREAMS.find((d) => d.name === entry.tap_stream_id);
    const fields = (entry.metadata ?? []).filter((m) => m.breadcrumb.length > 0);
    t.same(
      fields.map((m) => m.breadcrumb[1]),
      Object.keys(def?.schema.properties ?? {}),
      `${entry.stream}: one entry per top-level field`,
    );
    for (const m of fields) {
      const name = m.breadcrumb[1] ?? '';
      const automatic = name === 'id' || name === def?.replicationKey;
      t.same(m.metadata, { inclusion: automatic ? 'automatic' : 'available', 'selected-by-default': true }, `${entry.stream}.${name}`);
    }
  }
});

t.test('every catalog schema is plain JSON and passes the warehouse contract', async (t) => {
  for (const s of buildCatalog().streams) {
    t.same(checkSchema(s.schema), [], s.stream ?? '');
    t.notMatch(JSON.stringify(s.schema), /~kind|anyOf/);
  }
});

t.test('parseCatalog accepts the discovered catalog and a minimal hand-written one', async (t) => {
  t.same(parseCatalog(clone(buildCatalog())), clone(buildCatalog()));
  const minimal = { streams: [{ tap_stream_id: 'projects', schema: { type: 'object', properties: {} } }] };
  t.same(parseCatalog(minimal), minimal);
});

t.test('parseCatalog explains what is wrong in one sentence', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /must be a JSON object with a "streams" list, but it is an array/],
    [null, /but it is null/],
    [{}, /is missing "streams"/],
    [{ streams: {} }, /streams must be an array/],
    [{ streams: [{ tap_stream_id: 'projects' }] }, /streams\[0\] is missing "schema"/],
    [{ streams: [{ tap_stream_id: 'projects', schema: {}, metadata: [{ breadcrumb: 'properties.id', metadata: {} }] }] }, /streams\[0\]\.metadata\[0\]\.breadcrumb must be an array/],
    [{ streams: [{ schema: {} }] }, /streams\[0\] has neither "tap_stream_id" nor "stream"/],
    [{ streams: [{ tap_stream_id: 'users', schema: {} }, { stream: 'users', schema: {} }] }, /lists stream "users" twice/],
    [{ streams: [{ tap_stream_id: 'users', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: 'yes' } }] }] }, /"selected": "yes"; use true or false/],
  ];
  for (const [input, message] of cases) {
    t.throws(() => parseCatalog(input), CatalogError);
    t.throws(() => parseCatalog(input), { code: 'CATALOG_INVALID', message }, String(message));
  }
});

t.test('without a catalog the sync_*_table switches choose the streams, all fields', async (t) => {
  t.same(
    selectStreams(null, allOn).map((s) => [s.stream, s.fields]),
    [
      ['projects', null],
      ['merge_requests', null],
      ['users', null],
    ],
  );
  t.same(
    selectStreams(null, { syncProjectsTable: false, syncMergeRequestsTable: true, syncUsersTable: false }).map((s) => s.stream),
    ['merge_requests'],
  );
  t.same(selectStreams(null, { syncProjectsTable: false, syncMergeRequestsTable: false, syncUsersTable: false }), []);
  const projects = selectStreams(null, allOn)[0];
  t.same(projects?.schema, clone(STREAMS[0]?.schema));
});

/** The discovered catalog with selections applied, the way Meltano writes them. */
function withSelection(edit: (c: SingerCatalog) => void): SingerCatalog {
  const c = clone(buildCatalog());
  edit(c);
  return parseCatalog(c);
}
const md = (c: SingerCatalog, stream: string, crumb: string[]): Record<string, unknown> => {
  const entry = c.streams.find((s) => s.tap_stream_id === stream);
  let m = entry?.metadata?.find((x) => x.breadcrumb.join('.') === crumb.join('.'));
  if (!m) {
    m = { breadcrumb: crumb, metadata: {} };
    entry?.metadata?.push(m);
  }
  return m.metadata;
};

t.test('the discovered catalog as given selects every stream and field', async (t) => {
  t.same(
    selectStreams(clone(buildCatalog()), { syncProjectsTable: false, syncMergeRequestsTable: false, syncUsersTable: false }).map((s) => [s.stream, s.fields]),
    [
      ['projects', null],
      ['merge_requests', null],
      ['users', null],
    ],
    'the catalog, not the switches, decides',
  );
});

t.test('stream selection follows metadata selected, including "true"/"false" strings', async (t) => {
  const c = withSelection((c) => {
    md(c, 'projects', []).selected = false;
    md(c, 'merge_requests', []).selected = 'true';
    md(c, 'users', []).selected = 'false';
  });
  t.same(
    selectStreams(c, allOn).map((s) => s.stream),
    ['merge_requests'],
  );
});

t.test('a catalog that selects no stream is refused, so an empty run is never recorded as a completed sync', async (t) => {
  const c = withSelection((c) => {
    md(c, 'projects', []).selected = false;
    md(c, 'merge_requests', []).selected = 'false';
    md(c, 'users', []).selected = false;
  });
  t.throws(() => selectStreams(c, allOn), {
    code: 'CATALOG_INVALID',
    message: /^The catalog selects no stream, so there is nothing to sync; mark at least one of projects, merge_requests, users selected/,
  });
  t.throws(() => selectStreams({ streams: [] }, allOn), { message: /selects no stream/ }, 'an empty list of streams too');
});

t.test('field selection prunes the schema and the records; keys and replication keys stay', async (t) => {
  const c = withSelection((c) => {
    md(c, 'users', []).selected = false;
    md(c, 'merge_requests', []).selected = false;
    md(c, 'projects', []).selected = true;
    for (const e of c.streams[0]?.metadata ?? []) if (e.breadcrumb.length > 0) e.metadata.selected = false;
    md(c, 'projects', ['properties', 'name']).selected = true;
    md(c, 'projects', ['properties', 'namespace']).selected = true;
    md(c, 'projects', ['properties', 'namespace', 'properties', 'kind']).selected = false;
  });
  const [sel] = selectStreams(c, allOn);
  t.equal(sel?.stream, 'projects');
  t.same([...(sel?.fields ?? [])], ['id', 'name', 'updated_at', 'namespace']);
  t.same(Object.keys((sel?.schema as { properties: object }).properties), ['id', 'name', 'updated_at', 'namespace']);
  t.same(Object.keys((sel?.schema as { properties: { namespace: { properties: object } } }).properties.namespace.properties), ['id', 'name', 'path', 'full_path', 'parent_id', 'web_url']);
  t.same((sel?.schema as { required: string[] }).required, ['id']);
  const rec = toProjectRecord({ id: 1, name: 'n', description: 'secret-ish', updated_at: '2024-01-01T00:00:00Z', namespace: { id: 2, kind: 'group', path: 'g' } });
  t.same(projectRecord(rec, sel!), {
    id: 1,
    name: 'n',
    updated_at: '2024-01-01T00:00:00.000Z',
    namespace: { id: 2, name: null, path: 'g', full_path: null, parent_id: null, web_url: null },
  });
});

t.test('automatic fields are kept even when the catalog deselects them, unsupported ones never sent', async (t) => {
  const c = withSelection((c) => {
    md(c, 'merge_requests', ['properties', 'id']).selected = false;
    md(c, 'merge_requests', ['properties', 'updated_at']).inclusion = 'available';
    md(c, 'merge_requests', ['properties', 'updated_at']).selected = false;
    md(c, 'merge_requests', ['properties', 'title']).inclusion = 'unsupported';
    md(c, 'merge_requests', ['properties', 'title']).selected = true;
  });
  const sel = selectStreams(c, allOn).find((s) => s.stream === 'merge_requests');
  t.ok(sel?.fields?.has('id'));
  t.ok(sel?.fields?.has('updated_at'), 'the replication key is automatic whatever the catalog says');
  t.notOk(sel?.fields?.has('title'));
  t.ok(sel?.fields?.has('description'));
});

t.test('a field the catalog does not mention inherits the stream (new fields arrive in old catalogs)', async (t) => {
  const c = withSelection((c) => {
    const entry = c.streams.find((s) => s.tap_stream_id === 'users');
    if (entry) entry.metadata = entry.metadata?.filter((m) => m.breadcrumb[1] !== 'bot');
    md(c, 'users', []).selected = true;
  });
  t.equal(selectStreams(c, allOn).find((s) => s.stream === 'users')?.fields, null);
});

t.test('legacy schema.selected and catalogs without metadata are honoured', async (t) => {
  const schema = { type: 'object', properties: {} };
  const legacy = parseCatalog({
    streams: [
      { tap_stream_id: 'projects', schema: { ...schema, selected: true }, metadata: [] },
      { tap_stream_id: 'merge_requests', schema: { ...schema, selected: false } },
      { tap_stream_id: 'users', schema, metadata: [{ breadcrumb: [], metadata: { inclusion: 'available' } }] },
    ],
  });
  t.same(
    selectStreams(legacy, allOn).map((s) => s.stream),
    ['projects'],
    'users: metadata says nothing about selection, so it is not selected',
  );
  const bare = parseCatalog({ streams: [{ tap_stream_id: 'users', schema }] });
  t.same(
    selectStreams(bare, allOn).map((s) => [s.stream, s.fields]),
    [['users', null]],
    'no metadata at all: selected with every field',
  );
});

t.test('streams missing from the catalog are not synced; a selected unknown stream is an error', async (t) => {
  const only = parseCatalog({ streams: [clone(buildCatalog()).streams[2]] });
  t.same(
    selectStreams(only, allOn).map((s) => s.stream),
    ['users'],
  );
  const unknown = parseCatalog({ streams: [{ tap_stream_id: 'issues', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: true } }] }] });
  t.throws(() => selectStreams(unknown, allOn), { code: 'CATALOG_INVALID', message: /selects stream "issues", which tap-gitlab does not have/ });
  const ignored = parseCatalog({ streams: [clone(buildCatalog()).streams[2], { tap_stream_id: 'issues', schema: {}, metadata: [{ breadcrumb: [], metadata: { selected: false } }] }] });
  t.same(selectStreams(ignored, allOn).map((s) => s.stream), ['users'], 'an unknown stream left unselected is ignored');
});

t.test('projectRecord returns the record untouched when every field is selected', async (t) => {
  const [sel] = selectStreams(null, allOn);
  const rec = { id: 1, anything: 'kept' };
  t.equal(projectRecord(rec, sel!), rec);
});
