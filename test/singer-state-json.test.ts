import t from 'tap';
import { createStateSerializer } from '../lib/singer/state-json.js';
import { emptyState, parseState, setBookmark } from '../lib/singer/state.js';

t.test('writes exactly what JSON.stringify writes, for every kind of value a state can hold', async (t) => {
  const text = createStateSerializer();
  const values: unknown[] = [
    null,
    0,
    -1.5,
    'x "quoted" \n ✓ \u2028',
    true,
    [],
    {},
    [1, undefined, null, 'a'],
    { a: undefined, b: 1, 'c d': [{ e: null }], f: () => 1 },
    Object.freeze({ nested: Object.freeze([Object.freeze({ deep: 'yes' })]) }),
    { when: new Date('2024-05-01T00:00:00Z') },
    { n: Number.NaN, i: Number.POSITIVE_INFINITY },
  ];
  values.forEach((v, i) => t.equal(text(v), JSON.stringify(v), `value ${i}`));
});

t.test('a frozen part is serialised once and its text reused; a mutable part is serialised every time', async (t) => {
  const text = createStateSerializer();
  const frozen = Object.freeze({ id: 1, tags: Object.freeze(['a']) });
  const mutable = { id: 2, tags: ['b'] };
  t.equal(text({ frozen, mutable }), JSON.stringify({ frozen, mutable }));
  mutable.tags.push('c');
  mutable.id = 3;
  t.equal(text({ frozen, mutable }), '{"frozen":{"id":1,"tags":["a"]},"mutable":{"id":3,"tags":["b","c"]}}', 'the change to the mutable part shows');
  let reads = 0;
  const watched = Object.freeze({
    get id() {
      reads += 1;
      return 5;
    },
  });
  t.equal(text([watched]), '[{"id":5}]');
  t.equal(text({ again: watched }), '{"again":{"id":5}}');
  t.equal(reads, 1, 'the frozen part was read once, its text reused');
  // A frozen object holding a mutable one is not frozen all the way down: never cached.
  const shallow = Object.freeze({ inner: { n: 1 } });
  t.equal(text(shallow), '{"inner":{"n":1}}');
  (shallow.inner as { n: number }).n = 2;
  t.equal(text(shallow), '{"inner":{"n":2}}', 'a shallowly frozen object is read again');
});

t.test('STATE values built by setBookmark serialise like JSON.stringify across a run of bookmark moves', async (t) => {
  const text = createStateSerializer();
  let state = parseState({ version: 1, bookmarks: { projects: { partitions: [{ context: { project_id: 9 }, replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00Z' }] }, other_tap: { x: [1] } }, extra: { keep: true } });
  t.equal(text(state), JSON.stringify(state));
  for (let i = 0; i < 50; i++) {
    const project = (i % 7) + 1;
    state = setBookmark(state, 'merge_requests', project, `2024-02-${String((i % 27) + 1).padStart(2, '0')}T00:00:00.000Z`, [i, i + 100]);
    t.equal(text({ ...state, users_pending: [i] }), JSON.stringify({ ...state, users_pending: [i] }), `after move ${i}`);
  }
  t.equal(text(emptyState()), JSON.stringify(emptyState()));
});

t.test('bookmark partitions are frozen, so nothing can change a STATE text already reused', async (t) => {
  const state = setBookmark(emptyState(), 'merge_requests', 4, '2024-01-01T00:00:00.000Z', [7]);
  const p = state.bookmarks.merge_requests?.partitions[0];
  t.ok(p && Object.isFrozen(p) && Object.isFrozen(p.context) && Object.isFrozen(p.ids_at_cursor), 'partition, context and ids frozen');
  t.ok(Object.isFrozen(state.bookmarks.merge_requests?.partitions), 'the partition list is frozen');
  t.throws(() => {
    (p as { replication_key_value: string }).replication_key_value = '2030-01-01T00:00:00.000Z';
  }, TypeError);
});
