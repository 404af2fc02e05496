import t from 'tap';
import { readFileSync } from 'node:fs';
import { StateError } from '../lib/errors.js';
import { emptyState, getBookmark, parseState, setBookmark, type TapState } from '../lib/singer/state.js';

const part = (id: number, v: string) => ({ context: { project_id: id }, replication_key: 'updated_at', replication_key_value: v });

t.test('an empty object is a fresh state', async (t) => {
  t.same(parseState({}), { version: 1, bookmarks: {} });
  t.same(parseState({}), emptyState());
});

t.test('sample-state.json parses back unchanged and has both partitions for 3 projects', async (t) => {
  const sample: unknown = JSON.parse(readFileSync(new URL('../sample-state.json', import.meta.url), 'utf8'));
  const state = parseState(sample);
  t.same(state, sample);
  t.equal(state.bookmarks.projects?.partitions.length, 3);
  t.equal(state.bookmarks.merge_requests?.partitions.length, 3);
  t.same(state.discovery?.project_ids.length, 3);
  t.ok(state.last_sync_completed_at);
  for (const id of state.discovery?.project_ids ?? []) {
    t.ok(getBookmark(state, 'merge_requests', id), `merge_requests bookmark for ${id}`);
    t.ok(getBookmark(state, 'projects', id), `projects bookmark for ${id}`);
  }
});

t.test('accepts its own emitted value back and keeps unknown keys everywhere', async (t) => {
  let s = setBookmark(emptyState(), 'merge_requests', 42, '2024-05-01T10:00:00Z');
  s = { ...s, users_pending: [3, 4], bookmarks: { ...s.bookmarks, custom_stream: { x: 1 } } };
  const again = parseState(JSON.parse(JSON.stringify(s)));
  t.same(again, s);
  t.same(again.users_pending, [3, 4]);
  t.same(again.bookmarks.custom_stream, { x: 1 });
});

t.test('normalises bookmark values to UTC Z', async (t) => {
  const s = parseState({ bookmarks: { merge_requests: { partitions: [part(7, '2024-05-01T12:00:00+02:00')] } } });
  t.equal(getBookmark(s, 'merge_requests', 7), '2024-05-01T10:00:00.000Z');
});

t.test('unwraps the Meltano singer_state envelope', async (t) => {
  const s = parseState({ singer_state: { bookmarks: { projects: { partitions: [part(1, '2024-01-01T00:00:00Z')] } } } });
  t.equal(getBookmark(s, 'projects', 1), '2024-01-01T00:00:00.000Z');
});

t.test('a whole STATE line given as the state is read as its value, not as a state without bookmarks', async (t) => {
  const value = { bookmarks: { merge_requests: { partitions: [part(7, '2024-05-01T10:00:00.000Z')] } }, users_pending: [3] };
  const s = parseState({ type: 'STATE', value });
  t.equal(getBookmark(s, 'merge_requests', 7), '2024-05-01T10:00:00.000Z');
  t.same(s.users_pending, [3]);
  t.notOk('type' in s || 'value' in s, 'the envelope is not carried into the next STATE');
  t.equal(parseState({ type: 'RECORD', value: {} }).type, 'RECORD', 'only a STATE line is unwrapped');
});

t.test('reads the singer-io layout bookmarks.<stream>.<project_id>', async (t) => {
  const s = parseState({
    bookmarks: {
      merge_requests: { '42': '2024-03-01T00:00:00Z', '43': { updated_at: '2024-03-02T00:00:00+01:00' }, '44': { since: '2024-03-03' }, note: 'kept' },
      issues: { '42': '2024-01-01T00:00:00Z' },
    },
    currently_syncing: 'merge_requests',
  });
  t.equal(getBookmark(s, 'merge_requests', 42), '2024-03-01T00:00:00.000Z');
  t.equal(getBookmark(s, 'merge_requests', 43), '2024-03-01T23:00:00.000Z');
  t.equal(getBookmark(s, 'merge_requests', 44), '2024-03-03T00:00:00.000Z');
  t.equal(s.bookmarks.merge_requests?.['note' as never], 'kept');
  t.same(s.bookmarks.issues, { '42': '2024-01-01T00:00:00Z' }, 'other streams kept as they are');
  t.equal(s.currently_syncing, 'merge_requests');
});

t.test('keeps Meltano SDK partitions it cannot use, without reading them as bookmarks or crashing', async (t) => {
  const s = parseState({
    bookmarks: {
      merge_requests: {
        partitions: [
          { context: { project_path: 'acme/app' }, replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00Z' },
          { context: { project_id: 9 }, replication_key: 'created_at', replication_key_value: '2024-01-01T00:00:00Z' },
          { context: { project_id: 10 }, progress_markers: { Note: 'not resumable' } },
          { context: { project_id: '11' }, replication_key: 'updated_at', replication_key_value: '2024-02-02T00:00:00Z' },
        ],
      },
      projects: { replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00Z' },
    },
  });
  t.same(s.bookmarks.merge_requests?.partitions, [
    { context: { project_path: 'acme/app' }, replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00Z' },
    { context: { project_id: 9 }, replication_key: 'created_at', replication_key_value: '2024-01-01T00:00:00Z' },
    { context: { project_id: 10 }, progress_markers: { Note: 'not resumable' } },
    part(11, '2024-02-02T00:00:00.000Z'),
  ]);
  t.equal(getBookmark(s, 'merge_requests', 9), null);
  t.equal(getBookmark(s, 'merge_requests', 10), null);
  t.equal(getBookmark(s, 'projects', 1), null, 'a stream-wide bookmark is not applied to projects');
  t.equal(s.bookmarks.projects?.['replication_key_value' as never], '2024-01-01T00:00:00Z', 'but it is kept');
});

t.test('drops a malformed discovery cache and last_sync_completed_at instead of failing', async (t) => {
  const s = parseState({ discovery: { fingerprint: 1 }, last_sync_completed_at: 'never', currently_syncing: 5 });
  t.notOk('discovery' in s);
  t.notOk('last_sync_completed_at' in s);
  t.notOk('currently_syncing' in s);
});

t.test('keeps the latest value when a project appears twice', async (t) => {
  const s = parseState({ bookmarks: { projects: { partitions: [part(1, '2024-02-01T00:00:00Z'), part(1, '2024-01-01T00:00:00Z')] } } });
  t.same(s.bookmarks.projects?.partitions, [part(1, '2024-02-01T00:00:00.000Z')]);
});

t.test('raises a StateError with one clear sentence for states it cannot trust', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /must be a JSON object, but it is an array/],
    ['{}', /but it is a string/],
    [null, /but it is null/],
    [{ version: 2 }, /version 2, but this tap reads version 1 only/],
    [{ version: '1' }, /version "1"/],
    [{ bookmarks: [] }, /"bookmarks" must be an object, but it is an array/],
    [{ bookmarks: { merge_requests: 'x' } }, /"bookmarks\.merge_requests" must be an object/],
    [{ bookmarks: { projects: { partitions: {} } } }, /"bookmarks\.projects\.partitions" must be an array/],
    [{ bookmarks: { projects: { partitions: [5] } } }, /partitions\[0\]" must be an object, but it is a number/],
    [{ bookmarks: { projects: { partitions: [{ replication_key_value: 'x' }] } } }, /partitions\[0\]" needs a "context" object/],
    [{ bookmarks: { projects: { partitions: [{ context: { project_id: -3 }, replication_key_value: '2024-01-01' }] } } }, /project_id must be a positive integer, but it is -3/],
    [{ bookmarks: { projects: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: 'yesterday' }] } } }, /replication_key_value must be an RFC 3339 timestamp, but it is "yesterday"/],
  ];
  for (const [input, message] of cases) {
    t.throws(() => parseState(input), StateError);
    t.throws(() => parseState(input), { code: 'STATE_INVALID', message }, String(message));
  }
});

t.test('setBookmark moves forward only and never mutates the given state', async (t) => {
  const s0 = emptyState();
  const s1 = setBookmark(s0, 'merge_requests', 5, '2024-05-01T10:00:00Z');
  t.same(s0, emptyState(), 'input untouched');
  t.equal(getBookmark(s1, 'merge_requests', 5), '2024-05-01T10:00:00.000Z');
  const older = setBookmark(s1, 'merge_requests', 5, '2024-04-30T23:59:59.999Z');
  t.equal(older, s1, 'an older value returns the same state');
  const sameInstant = setBookmark(s1, 'merge_requests', 5, '2024-05-01T12:00:00+02:00');
  t.equal(sameInstant, s1, 'the same instant in another offset does not count as newer');
  const s2 = setBookmark(s1, 'merge_requests', 5, '2024-05-01T10:00:00.001Z');
  t.equal(getBookmark(s2, 'merge_requests', 5), '2024-05-01T10:00:00.001Z');
  t.equal(getBookmark(s1, 'merge_requests', 5), '2024-05-01T10:00:00.000Z', 'the previous state is unchanged');
  t.equal(getBookmark(s2, 'projects', 5), null, 'streams are separate');
});

t.test('setBookmark keeps other projects and their order, and other keys of the stream', async (t) => {
  let s: TapState = parseState({ bookmarks: { projects: { partitions: [part(1, '2024-01-01T00:00:00Z'), part(2, '2024-01-01T00:00:00Z')], extra: true } } });
  s = setBookmark(s, 'projects', 1, '2024-02-01T00:00:00Z');
  s = setBookmark(s, 'projects', 3, '2024-03-01T00:00:00Z');
  t.same(s.bookmarks.projects, {
    extra: true,
    partitions: [part(1, '2024-02-01T00:00:00.000Z'), part(2, '2024-01-01T00:00:00.000Z'), part(3, '2024-03-01T00:00:00.000Z')],
  });
});

t.test('setBookmark refuses a value that is not a timestamp', async (t) => {
  t.throws(() => setBookmark(emptyState(), 'projects', 1, 'soon'), { code: 'STATE_INVALID', message: /not an RFC 3339 timestamp/ });
});

t.test('a users-only run keeps its merge request cursor under bookmarks.users', async (t) => {
  const s = setBookmark(emptyState(), 'users', 9, '2024-05-01T10:00:00Z');
  t.equal(getBookmark(s, 'users', 9), '2024-05-01T10:00:00.000Z');
  t.equal(getBookmark(s, 'merge_requests', 9), null);
  const back = parseState(JSON.parse(JSON.stringify(s)));
  t.same(back, s);
  t.throws(() => parseState({ bookmarks: { users: { partitions: 'x' } } }), { message: /"bookmarks\.users\.partitions" must be an array/ });
});

t.test('partitions this tap cannot use (keyed by path, another replication key) are kept and printed back as they came', async (t) => {
  const foreignByPath = { context: { project_path: 'g/p' }, replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00Z', progress_markers: { n: 1 } };
  const foreignKey = { context: { project_id: 1 }, replication_key: 'created_at', replication_key_value: '2020-01-01T00:00:00Z' };
  const ours = { context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: '2024-05-01T00:00:00.000Z' };
  const s = parseState({ version: 1, bookmarks: { merge_requests: { partitions: [foreignByPath, foreignKey, ours] } } });
  t.equal(getBookmark(s, 'merge_requests', 1), '2024-05-01T00:00:00.000Z', 'the created_at partition of project 1 is not its bookmark');
  const moved = setBookmark(s, 'merge_requests', 1, '2024-06-01T00:00:00.000Z');
  const printed = JSON.parse(JSON.stringify(moved)) as { bookmarks: { merge_requests: { partitions: unknown[] } } };
  t.same(printed.bookmarks.merge_requests.partitions, [
    foreignByPath,
    foreignKey,
    { context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: '2024-06-01T00:00:00.000Z' },
  ]);
  t.same(parseState(printed).bookmarks.merge_requests?.partitions.length, 3, 'and read back');
});
