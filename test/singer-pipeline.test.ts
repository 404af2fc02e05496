/**
 * The Singer layer end to end with a fake stream source: catalog selection → SCHEMA (pruned) →
 * RECORDs (projected) → STATE (bookmarks moved after the records they cover).
 */
import t from 'tap';
import { PassThrough } from 'node:stream';
import { buildCatalog, parseCatalog, projectRecord, selectStreams, type SingerCatalog, type StreamSelection } from '../lib/singer/catalog.js';
import { parseMessages, type SingerMessage } from '../lib/singer/messages.js';
import { validateRecord } from '../lib/singer/schema-contract.js';
import { emptyState, setBookmark } from '../lib/singer/state.js';
import { createWriter } from '../lib/singer/writer.js';
import { toMergeRequestRecord } from '../lib/streams/merge-requests-schema.js';
import { toProjectRecord } from '../lib/streams/projects-schema.js';

const now = (): Date => new Date('2024-05-01T10:00:00.000Z');

/** A fake source: one project with two merge request pages. */
const source = {
  projects: [{ id: 42, name: 'App', description: 'd', visibility: 'private', updated_at: '2024-04-30T12:00:00+02:00', web_url: 'https://g/app' }],
  mergeRequestPages: [
    [
      { id: 1, iid: 1, project_id: 42, title: 'First', updated_at: '2024-04-01T00:00:00Z', author: { id: 7, username: 'a' } },
      { id: 2, iid: 2, project_id: 42, title: 'Second', updated_at: '2024-04-02T00:00:00Z' },
    ],
    [{ id: 3, iid: 3, project_id: 42, title: 'Third', updated_at: '2024-04-03T00:00:00+01:00' }],
  ],
};

async function run(selections: StreamSelection[]): Promise<SingerMessage[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = createWriter(out, { now });
  let state = emptyState();
  const sel = new Map(selections.map((s) => [s.stream, s]));
  for (const s of selections) await w.writeSchema(s.stream, s.schema, s.keyProperties, s.replicationKey ? [s.replicationKey] : undefined);
  const p = sel.get('projects');
  if (p) {
    for (const raw of source.projects) {
      const rec = toProjectRecord(raw);
      await w.writeRecord('projects', projectRecord(rec, p));
      if (rec.updated_at) state = setBookmark(state, 'projects', rec.id, rec.updated_at);
    }
    await w.writeState(state);
  }
  const m = sel.get('merge_requests');
  if (m) {
    for (const page of source.mergeRequestPages) {
      let cursor: string | null = null;
      for (const raw of page) {
        const rec = toMergeRequestRecord(raw);
        await w.writeRecord('merge_requests', projectRecord(rec, m));
        cursor = rec.updated_at;
      }
      if (cursor) state = setBookmark(state, 'merge_requests', 42, cursor);
      await w.writeState(state);
    }
  }
  return parseMessages(Buffer.concat(chunks).toString('utf8'));
}

const partition = (v: string) => ({ partitions: [{ context: { project_id: 42 }, replication_key: 'updated_at', replication_key_value: v }] });

t.test('emits SCHEMA first, RECORDs next, and STATE after the records it covers', async (t) => {
  const msgs = await run(selectStreams(null, { syncProjectsTable: true, syncMergeRequestsTable: true, syncUsersTable: false }));
  t.same(
    msgs.map((m) => (m.type === 'STATE' ? 'STATE' : `${m.type}:${m.stream}${m.type === 'RECORD' ? `#${String(m.record.id)}` : ''}`)),
    ['SCHEMA:projects', 'SCHEMA:merge_requests', 'RECORD:projects#42', 'STATE', 'RECORD:merge_requests#1', 'RECORD:merge_requests#2', 'STATE', 'RECORD:merge_requests#3', 'STATE'],
  );
  const states = msgs.filter((m) => m.type === 'STATE').map((m) => m.value);
  t.same(states[0], { version: 1, bookmarks: { projects: partition('2024-04-30T10:00:00.000Z') } });
  t.same((states[1] as { bookmarks: unknown }).bookmarks, { projects: partition('2024-04-30T10:00:00.000Z'), merge_requests: partition('2024-04-02T00:00:00.000Z') });
  t.same((states[2] as { bookmarks: { merge_requests: unknown } }).bookmarks.merge_requests, partition('2024-04-02T23:00:00.000Z'));
  for (const m of msgs) {
    if (m.type !== 'RECORD') continue;
    const schema = msgs.find((s) => s.type === 'SCHEMA' && s.stream === m.stream);
    t.same(validateRecord(schema?.type === 'SCHEMA' ? schema.schema : {}, m.record), [], `record ${m.stream}#${String(m.record.id)} matches its SCHEMA`);
    t.equal(m.time_extracted, '2024-05-01T10:00:00.000Z');
  }
});

t.test('with a catalog, only selected streams and selected fields (plus keys) are emitted', async (t) => {
  const c = JSON.parse(JSON.stringify(buildCatalog())) as SingerCatalog;
  for (const entry of c.streams) {
    for (const m of entry.metadata ?? []) {
      if (m.breadcrumb.length === 0) m.metadata.selected = entry.stream === 'merge_requests';
      else m.metadata.selected = m.breadcrumb[1] === 'title';
    }
  }
  const msgs = await run(selectStreams(parseCatalog(c), { syncProjectsTable: true, syncMergeRequestsTable: true, syncUsersTable: true }));
  const schema = msgs[0];
  t.equal(schema?.type, 'SCHEMA');
  t.same(schema?.type === 'SCHEMA' && Object.keys(schema.schema.properties as object), ['id', 'title', 'updated_at']);
  t.same(
    msgs.filter((m) => m.type === 'RECORD').map((m) => (m.type === 'RECORD' ? m.record : null)),
    [
      { id: 1, title: 'First', updated_at: '2024-04-01T00:00:00.000Z' },
      { id: 2, title: 'Second', updated_at: '2024-04-02T00:00:00.000Z' },
      { id: 3, title: 'Third', updated_at: '2024-04-02T23:00:00.000Z' },
    ],
  );
  t.notOk(msgs.some((m) => m.type !== 'STATE' && m.stream === 'projects'), 'the deselected stream is absent');
});
