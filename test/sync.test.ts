import t from 'tap';
import { fakeGitLab, mr, project, SERVER_DATE, user, type FakeMr } from './helpers/fake-gitlab.js';
import { testConfig } from './helpers/config.js';
import { outline, recordIds, runOnce } from './helpers/run-sync.js';

const ts = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();
const API = '/api/v4';

function smallWorld() {
  return fakeGitLab({
    projects: [project(1, 'mergemind-api'), project(2, 'web-demo-app'), project(3, 'infra-archive', { archived: true })],
    mrs: [mr(11, 1, ts(1), 1), mr(12, 1, ts(2), 2, { assignees: [user(3)] }), mr(21, 2, ts(3), 1, { reviewers: [user(4)] })],
    users: [user(1), user(2), user(3), user(4)],
  });
}

t.test('a full sync prints SCHEMAs, then projects, merge requests with their users, and STATEs after each page', async (t) => {
  const gl = smallWorld();
  const res = await runOnce({ gitlab: gl, config: testConfig() });
  t.equal(res.error, null);
  t.same(outline(res.messages), [
    'SCHEMA projects',
    'SCHEMA merge_requests',
    'SCHEMA users',
    'RECORD projects 1',
    'RECORD projects 2',
    'STATE',
    'RECORD merge_requests 11',
    'RECORD merge_requests 12',
    'STATE',
    'RECORD merge_requests 21',
    'STATE',
    'RECORD users 1',
    'RECORD users 2',
    'RECORD users 3',
    'RECORD users 4',
    'STATE',
  ]);
  t.same(gl.calls, [
    `GET ${API}/projects?membership=true&order_by=id&sort=asc&per_page=100&archived=false&pagination=keyset`,
    `GET ${API}/projects/1/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1`,
    `GET ${API}/projects/2/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1`,
    `POST /api/graphql`,
  ]);
  const users = res.messages.filter((m) => m.type === 'RECORD' && m.stream === 'users');
  t.match(users[0]?.record, { id: 1, username: 'user1', public_email: 'user1@example.com' });
  const final = res.lastState;
  t.match(final, { version: 1, last_sync_completed_at: '2024-06-01T00:00:00.000Z', currently_syncing: null, users_pending: [] });
  t.same(final?.bookmarks.merge_requests, {
    partitions: [
      { context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: ts(2), ids_at_cursor: [12] },
      { context: { project_id: 2 }, replication_key: 'updated_at', replication_key_value: ts(3), ids_at_cursor: [21] },
    ],
  });
  t.equal(res.summary?.exitCode, 0);
  for (const m of res.messages.filter((x) => x.type === 'RECORD')) t.match(m, { time_extracted: '2024-06-01T00:00:00.000Z' });
});

t.test('an incremental run asks only for what changed since the bookmarks', async (t) => {
  const gl = smallWorld();
  const first = await runOnce({ gitlab: gl, config: testConfig() });
  gl.mrs.push(mr(13, 1, ts(30), 5));
  gl.users.push(user(5));
  gl.calls.length = 0;
  const clock = first.clock;
  clock.advance(10 * 60_000);
  const second = await runOnce({ gitlab: gl, config: testConfig(), state: first.lastState, clock });
  t.equal(second.error, null);
  t.same(gl.calls, [
    `GET ${API}/projects?membership=true&order_by=updated_at&sort=asc&updated_after=${encodeURIComponent('2024-01-01T00:00:00.000Z')}&per_page=100&page=1`,
    `GET ${API}/projects/1/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1&updated_after=${encodeURIComponent(ts(2))}`,
    `GET ${API}/projects/2/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1&updated_after=${encodeURIComponent(ts(3))}`,
    `POST /api/graphql`,
  ], 'cached discovery: one changed-projects request, one request per project, one user batch');
  t.same(recordIds(second.messages, 'projects'), [], 'unchanged projects are not emitted again');
  t.same(recordIds(second.messages, 'merge_requests'), [13], 'only the new MR: the boundary rows at the bookmarks are known');
  t.same(recordIds(second.messages, 'users'), [5]);
});

t.test('start_date wins over an older bookmark and bounds the first run', async (t) => {
  const gl = smallWorld();
  const state = { version: 1, bookmarks: { merge_requests: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: ts(0) }] } } };
  await runOnce({ gitlab: gl, config: testConfig({ startDate: ts(2) }), state });
  const mrCalls = gl.calls.filter((c) => c.includes('merge_requests'));
  t.same(mrCalls, [
    `GET ${API}/projects/1/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1&updated_after=${encodeURIComponent(ts(2))}`,
    `GET ${API}/projects/2/merge_requests?scope=all&state=all&order_by=updated_at&sort=asc&per_page=100&page=1&updated_after=${encodeURIComponent(ts(2))}`,
  ]);
});

t.test('a newer bookmark wins over start_date', async (t) => {
  const gl = smallWorld();
  const state = { version: 1, bookmarks: { merge_requests: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: ts(2) }] } } };
  await runOnce({ gitlab: gl, config: testConfig({ startDate: ts(0) }), state });
  t.ok(gl.calls.some((c) => c.includes(`/projects/1/merge_requests`) && c.includes(encodeURIComponent(ts(2)))));
});

t.test('a discovered project answering 403 is skipped, counted and named; the run succeeds', async (t) => {
  const gl = smallWorld();
  const p2 = gl.projects[1];
  if (p2) p2.mrStatus = 403;
  const res = await runOnce({ gitlab: gl, config: testConfig() });
  t.equal(res.error, null);
  t.equal(res.summary?.exitCode, 0);
  t.same(res.summary?.skipped, [{ id: 2, path_with_namespace: 'acme/web-demo-app', reason: 'merge requests forbidden (403)' }]);
  t.ok(res.logs.some((l) => l.includes('skipped acme/web-demo-app (#2): merge requests forbidden (403)')));
});

t.test('a 403 for a missing token scope stops the run as a token problem; it is not a skipped project and the run is not complete', async (t) => {
  const gl = smallWorld();
  for (const p of gl.projects) Object.assign(p, { mrStatus: 403, mrBody: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'read_api' } });
  const res = await runOnce({ gitlab: gl, config: testConfig() });
  t.match(res.error, { code: 'GITLAB_HTTP_403', exitCode: 1 });
  t.match(String((res.error as Error).message), /The token lacks a scope: it needs read_api/);
  t.same(res.summary?.skipped ?? [], [], 'no project is skipped for it');
  t.notOk(res.lastState?.last_sync_completed_at, 'the run is not recorded as complete');
});

t.test('a configured project that does not exist fails the run after the others are synced', async (t) => {
  const gl = smallWorld();
  const res = await runOnce({ gitlab: gl, config: testConfig({ autoDiscoverProjects: false, projectIds: [1, 'acme/missing'] }) });
  t.match(res.error, { code: 'PROJECTS_FAILED', exitCode: 1 });
  t.match(String((res.error as Error).message), /acme\/missing/);
  t.same(recordIds(res.messages, 'merge_requests'), [11, 12], 'the existing project was synced');
  t.ok(res.lastState?.bookmarks.merge_requests, 'its progress is in the last STATE');
});

t.test('an MR updated during the scan is not lost', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 250; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'p')], mrs, users: [user(1)] });
  gl.onMrRequest = (n) => {
    if (n === 2) {
      // MR 50 (already read) and MR 150 (not yet read) are updated while the scan is between pages.
      for (const m of gl.mrs) if (m.id === 50 || m.id === 150) m.updated_at = '2024-02-01T00:00:00.000Z';
    }
  };
  const res = await runOnce({ gitlab: gl, config: testConfig({ syncUsersTable: false, syncProjectsTable: false }) });
  t.equal(res.error, null);
  const ids = new Set(recordIds(res.messages, 'merge_requests'));
  t.equal(ids.size, 250, 'every MR is in the output');
});

t.test('resuming from every STATE line of an interrupted run produces the complete set', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 230; i += 1) mrs.push(mr(i, 1 + (i % 2), new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), 1 + (i % 7)));
  const world = () => fakeGitLab({ projects: [project(1, 'a'), project(2, 'b')], mrs: mrs.map((m) => ({ ...m })), users: [1, 2, 3, 4, 5, 6, 7].map(user) });
  const full = await runOnce({ gitlab: world(), config: testConfig({ pageSize: 50 }) });
  const states = full.messages.filter((m) => m.type === 'STATE');
  t.ok(states.length >= 6, `several checkpoints (${states.length})`);
  const allMrs = new Set(recordIds(full.messages, 'merge_requests'));
  const allUsers = new Set(recordIds(full.messages, 'users'));
  for (const [i, s] of states.entries()) {
    // Everything printed before this STATE, plus a fresh run from it, must cover the whole set.
    const cut = full.messages.indexOf(s);
    const before = full.messages.slice(0, cut + 1);
    const resumed = await runOnce({ gitlab: world(), config: testConfig({ pageSize: 50 }), state: s.value, clock: full.clock });
    const mrIds = new Set([...recordIds(before, 'merge_requests'), ...recordIds(resumed.messages, 'merge_requests')]);
    const userIds = new Set([...recordIds(before, 'users'), ...recordIds(resumed.messages, 'users')]);
    t.same([...mrIds].sort((a, b) => a - b), [...allMrs].sort((a, b) => a - b), `merge requests complete when resuming from STATE #${i + 1}`);
    t.same([...userIds].sort((a, b) => a - b), [...allUsers].sort((a, b) => a - b), `users complete when resuming from STATE #${i + 1}`);
  }
});

t.test('a fatal error mid-run ends with a STATE that resumes without loss', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 120; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'a')], mrs, users: [user(1)] });
  gl.failAt = new Map([[3, 401]]);
  const res = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 50 }) });
  t.match(res.error, { code: 'GITLAB_HTTP_401' });
  t.equal(res.messages[res.messages.length - 1]?.type, 'STATE', 'the last line is a STATE');
  gl.failAt = undefined;
  const again = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 50 }), state: res.lastState });
  const ids = new Set([...recordIds(res.messages, 'merge_requests'), ...recordIds(again.messages, 'merge_requests')]);
  t.equal(ids.size, 120);
});

t.test('max_records_per_sync: chunked runs end with the complete set', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 300; i += 1) mrs.push(mr(i, 1 + (i % 3), new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), 1 + (i % 5)));
  // A bulk edit: 60 MRs of project 1 share one timestamp, wider than a page.
  for (const m of mrs.filter((x) => x.project_id === 1).slice(10, 70)) m.updated_at = '2024-01-01T00:10:00.000Z';
  const gl = fakeGitLab({ projects: [project(1, 'a'), project(2, 'b'), project(3, 'c')], mrs, users: [1, 2, 3, 4, 5].map(user) });
  const config = testConfig({ pageSize: 40, maxRecordsPerSync: 50 });
  let state: unknown = {};
  const seen = new Set<number>();
  let runs = 0;
  let clock;
  for (; runs < 40; runs += 1) {
    const res = await runOnce({ gitlab: gl, config, state, ...(clock ? { clock } : {}) });
    clock = res.clock;
    t.equal(res.error, null);
    for (const id of recordIds(res.messages, 'merge_requests')) seen.add(id);
    state = res.lastState;
    if (res.summary?.stoppedBy === 'complete') break;
    t.equal(res.summary?.stoppedBy, 'max_records');
  }
  t.ok(runs >= 3, `it took several runs (${runs + 1})`);
  t.equal(seen.size, 300, 'every merge request was emitted');
});

t.test('sync_interval_hours: a run that starts too early emits the unchanged state and makes no request', async (t) => {
  const gl = smallWorld();
  const state = { version: 1, bookmarks: {}, last_sync_completed_at: '2024-05-31T23:30:00.000Z' };
  const res = await runOnce({ gitlab: gl, config: testConfig({ syncIntervalHours: 1 }), state });
  t.same(outline(res.messages), ['STATE']);
  t.same(res.messages[0]?.value, state);
  t.same(gl.calls, []);
  t.equal(res.summary?.stoppedBy, 'interval');
  t.ok(res.logs.some((l) => l.includes('sync_interval_hours')));
});

t.test('table switches: users off means no user batches; projects off means no projects stream', async (t) => {
  const gl = smallWorld();
  const res = await runOnce({ gitlab: gl, config: testConfig({ syncUsersTable: false, syncProjectsTable: false }) });
  t.same(outline(res.messages).filter((l) => l.startsWith('SCHEMA')), ['SCHEMA merge_requests']);
  t.notOk(gl.calls.includes('POST /api/graphql'));
});

t.test('users only: merge requests are read for their users under a separate cursor', async (t) => {
  const gl = smallWorld();
  const res = await runOnce({ gitlab: gl, config: testConfig({ syncMergeRequestsTable: false, syncProjectsTable: false }) });
  t.same(recordIds(res.messages, 'users').sort(), [1, 2, 3, 4]);
  t.same(recordIds(res.messages, 'merge_requests'), []);
  t.equal(res.lastState?.bookmarks.merge_requests, undefined, 'merge request bookmarks do not move without records');
  t.ok(res.lastState?.bookmarks.users);
});

t.test('request count of a full sync stays at the lower bound', async (t) => {
  // P=3 projects (1 listing page), m = 250, 0, 100 → 3 + 1 + 1 MR pages, U = 150 users → 2 batches.
  const mrs: FakeMr[] = [];
  let id = 1;
  for (let i = 0; i < 250; i += 1) mrs.push(mr(id++, 1, new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), 1 + (i % 150)));
  for (let i = 0; i < 100; i += 1) mrs.push(mr(id++, 3, new Date(Date.UTC(2024, 0, 1, 1, 0, i)).toISOString(), 1 + (i % 150)));
  const users = Array.from({ length: 150 }, (_, i) => user(i + 1));
  const gl = fakeGitLab({ projects: [project(1, 'a'), project(2, 'b'), project(3, 'c')], mrs, users });
  const res = await runOnce({ gitlab: gl, config: testConfig() });
  t.equal(res.error, null);
  const bound = 1 + (3 + 1 + 1) + 2;
  t.ok(gl.calls.length <= bound + 1, `${gl.calls.length} requests for a bound of ${bound} (+1 for boundary re-reads)`);
  t.equal(recordIds(res.messages, 'users').length, 150);
});

t.test('a catalog selects streams and fields: deselected fields are dropped from SCHEMA and RECORD, keys stay', async (t) => {
  const { buildCatalog } = await import('../lib/singer/catalog.js');
  const catalog = buildCatalog();
  for (const entry of catalog.streams) {
    const metadata = entry.metadata ?? [];
    const top = metadata.find((m) => m.breadcrumb.length === 0);
    if (top) top.metadata.selected = entry.stream === 'merge_requests';
    if (entry.stream === 'merge_requests') {
      for (const m of metadata) {
        const field = m.breadcrumb[1];
        if (m.breadcrumb.length === 2 && field !== 'title') m.metadata.selected = false;
      }
    }
  }
  const gl = smallWorld();
  const res = await runOnce({ gitlab: gl, config: testConfig(), catalog });
  t.equal(res.error, null);
  t.same(outline(res.messages).filter((l) => l.startsWith('SCHEMA')), ['SCHEMA merge_requests']);
  const schema = res.messages[0]?.schema as { properties: Record<string, unknown> };
  t.same(Object.keys(schema.properties).sort(), ['id', 'title', 'updated_at']);
  t.same(res.messages.find((m) => m.type === 'RECORD')?.record, { id: 11, title: 'MR 11', updated_at: ts(1) });
  t.notOk(gl.calls.includes('POST /api/graphql'), 'users not selected: no user lookups');
});

t.test('an abort (SIGTERM) stops at the next page boundary with a resumable STATE and an interrupted error', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 200; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'a')], mrs, users: [user(1)] });
  const ac = new AbortController();
  gl.onMrRequest = (n) => {
    if (n === 2) ac.abort();
  };
  const res = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 50 }), signal: ac.signal });
  t.match(res.error, { code: 'INTERRUPTED', exitCode: 1 });
  t.equal(res.messages[res.messages.length - 1]?.type, 'STATE');
  const again = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 50 }), state: res.lastState });
  const ids = new Set([...recordIds(res.messages, 'merge_requests'), ...recordIds(again.messages, 'merge_requests')]);
  t.equal(ids.size, 200, 'nothing lost across the interruption');
  t.equal(again.error, null);
});

t.test('a reader that closes stdout ends the run quietly, without an error', async (t) => {
  let lines = 0;
  const gl = smallWorld();
  const summary = await syncInto(gl, (chunk) => {
    lines += chunk.toString().split('\n').length - 1;
    return lines >= 5;
  });
  t.equal(summary.stoppedBy, 'stdout_closed');
  t.equal(summary.exitCode, 0);
  t.notOk(gl.calls.includes('POST /api/graphql'), 'no more work once nobody reads');
});

/** Runs a sync of `gl` into an output that fails with EPIPE from the first chunk `closesAt` says yes to. */
async function syncInto(gl: ReturnType<typeof fakeGitLab>, closesAt: (chunk: Buffer) => boolean) {
  const { createWriter } = await import('../lib/singer/writer.js');
  const { runSync } = await import('../lib/sync.js');
  const { selectStreams } = await import('../lib/singer/catalog.js');
  const { parseState } = await import('../lib/singer/state.js');
  const { fakeClock } = await import('../lib/clock.js');
  const { memoryLogger } = await import('../lib/log.js');
  const { Writable } = await import('node:stream');
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (closesAt(chunk)) cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      else cb();
    },
  });
  const config = testConfig();
  return runSync({ config, state: parseState({}), selections: selectStreams(null, config), writer: createWriter(out), logger: memoryLogger(), fetch: gl.fetch, clock: fakeClock(), signal: new AbortController().signal });
}

/** Project ids of the merge request list requests, in the order they were made. */
const mrRequestProjects = (calls: string[]): number[] =>
  calls.flatMap((c) => {
    const m = /^GET \/api\/v4\/projects\/(\d+)\/merge_requests/.exec(c);
    return m ? [Number(m[1])] : [];
  });

t.test('first pages of all projects come first; a large project goes on at once, the others after, largest first', async (t) => {
  // Pages of 100: project 1 has 150 MRs (50 left after page 1), 2 has 1150 (1050 left: large),
  // 3 has 250 (150 left), 4 has 10. One project at a time, so the order is exact.
  const mrs: FakeMr[] = [];
  let id = 1;
  const add = (projectId: number, n: number) => {
    for (let i = 0; i < n; i += 1) mrs.push(mr(id++, projectId, new Date(Date.UTC(2024, 0, projectId, 0, 0, 0, i * 10)).toISOString(), 1));
  };
  add(1, 150);
  add(2, 1150);
  add(3, 250);
  add(4, 10);
  const gl = fakeGitLab({ projects: [project(1, 'a'), project(2, 'b'), project(3, 'c'), project(4, 'd')], mrs, users: [user(1)] });
  const res = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 1 }) });
  t.equal(res.error, null);
  t.same(mrRequestProjects(gl.calls), [1, ...Array<number>(12).fill(2), 3, 4, 3, 3, 1]);
  t.equal(recordIds(res.messages, 'merge_requests').length, 1560, 'every merge request once');
  t.equal(new Set(recordIds(res.messages, 'merge_requests')).size, 1560);
});

t.test('the next page of a scan is asked while the page before it is written; never with a record budget or past a set-aside first page', async (t) => {
  // One project of 350 MRs: its first page is read alone (then set aside: 250 left), the rest as one scan.
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 350; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), 1));
  const statesAtEachRequest = async (config: ReturnType<typeof testConfig>): Promise<number[]> => {
    const gl = fakeGitLab({ projects: [project(1, 'a')], mrs, users: [user(1)] });
    let states = 0;
    const seen: number[] = [];
    const inner = gl.fetch;
    gl.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes('/merge_requests')) seen.push(states);
      return inner(input, init);
    }) as typeof fetch;
    const res = await runOnce({ gitlab: gl, config, onOutput: (c) => (states += c.toString('utf8').split('{"type":"STATE"').length - 1) });
    t.equal(res.error, null);
    t.equal(new Set(recordIds(res.messages, 'merge_requests')).size, 350);
    return seen;
  };
  // STATEs printed when each merge request page was asked: 1 after the projects, then one per page.
  t.same(await statesAtEachRequest(testConfig({ concurrency: 1 })), [1, 2, 2, 3], 'pages 3 and 4 go out before the STATE of the page before them');
  t.same(await statesAtEachRequest(testConfig({ concurrency: 1, maxRecordsPerSync: 10_000 })), [1, 2, 3, 4], 'with a record budget every page waits for the one before');
});

t.test('a pending user lookup does not hold the merge request reads of the other projects', async (t) => {
  // Each project's first page names 100 new users: a full batch is looked up after it.
  const mrs: FakeMr[] = [];
  const users = Array.from({ length: 300 }, (_, i) => user(i + 1));
  for (let i = 0; i < 300; i += 1) mrs.push(mr(i + 1, 1 + Math.floor(i / 100), new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), i + 1));
  let release: () => void = () => undefined;
  const gl = fakeGitLab({ projects: [project(1, 'a'), project(2, 'b'), project(3, 'c')], mrs, users });
  gl.graphqlGate = new Promise<void>((r) => {
    release = r;
  });
  const running = runOnce({ gitlab: gl, config: testConfig({ concurrency: 2 }) });
  // Wait until every project has been read while the first lookup is still held.
  for (let i = 0; i < 200 && mrRequestProjects(gl.calls).length < 3; i += 1) await new Promise((r) => setImmediate(r));
  t.same(mrRequestProjects(gl.calls).sort(), [1, 2, 3], 'all three projects read while GitLab holds the user lookup');
  release();
  const res = await running;
  t.equal(res.error, null);
  t.equal(recordIds(res.messages, 'users').length, 300, 'every user emitted');
  t.equal(new Set(recordIds(res.messages, 'users')).size, 300, 'each once');
  t.equal(gl.calls.filter((c) => c.startsWith('POST')).length, 3, 'three batches of 100');
});

/** One project's merge requests, one a minute from 2024-01-01 (the fake clock stands at 2024-06-01). */
function bigProject(n: number): FakeMr[] {
  return Array.from({ length: n }, (_, i) => mr(i + 1, 1, new Date(Date.UTC(2024, 0, 1) + i * 60_000 * 60).toISOString(), 1));
}

t.test('idle workers split a large project scan into updated_at ranges: every merge request once, the bookmark at the newest', async (t) => {
  const mrs = bigProject(1500);
  const gl = fakeGitLab({ projects: [project(1, 'big')], mrs, users: [user(1)] });
  const res = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }) });
  t.equal(res.error, null);
  const ids = recordIds(res.messages, 'merge_requests');
  t.equal(new Set(ids).size, 1500, 'every merge request');
  t.equal(ids.length, 1500, 'none twice');
  const bounded = gl.calls.filter((c) => c.includes('/merge_requests') && c.includes('updated_before='));
  t.ok(bounded.length > 0, `some pages were read within a bounded range (${bounded.length})`);
  const mrCalls = gl.calls.filter((c) => c.includes('/merge_requests')).length;
  t.ok(mrCalls <= 15 + 8, `few requests beyond ⌈1500/100⌉ (${mrCalls})`);
  t.ok(res.logs.some((l) => /Splitting the merge request scan of acme\/big/.test(l)), 'the split is logged (debug)');
  t.equal(res.summary?.projectsSynced, 1);
  // The bookmark is past the newest row (perhaps at a split point beyond it), never past GitLab's clock.
  const bookmark = Date.parse(String(res.lastState?.bookmarks.merge_requests?.partitions[0]?.replication_key_value));
  t.ok(bookmark >= Date.parse((mrs[mrs.length - 1] as FakeMr).updated_at) && bookmark < Date.parse(SERVER_DATE), 'bookmark between the newest row and GitLab\'s clock');
  gl.calls.length = 0;
  const next = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }), state: res.lastState });
  t.same(recordIds(next.messages, 'merge_requests'), [], 'a next run finds nothing new');
  t.equal(gl.calls.filter((c) => c.includes('/merge_requests')).length, 1, 'in one request');
});

t.test('without GitLab\'s clock (no Date header) only bounded ranges are split: the open-ended last one is not', async (t) => {
  const gl = fakeGitLab({ projects: [project(1, 'big')], mrs: bigProject(1500), users: [user(1)] });
  gl.serverDate = null;
  const res = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }) });
  t.equal(res.error, null);
  t.equal(new Set(recordIds(res.messages, 'merge_requests')).size, 1500);
  t.notOk(gl.calls.some((c) => c.includes('updated_before=')), 'no split');
});

t.test('a run stopped while a split scan is half read resumes from its last STATE without losing a merge request', async (t) => {
  const mrs = bigProject(1500);
  for (const stopAt of [4, 7, 11]) {
    const gl = fakeGitLab({ projects: [project(1, 'big')], mrs, users: [user(1)] });
    const ac = new AbortController();
    gl.onMrRequest = (n) => {
      if (n === stopAt) ac.abort();
    };
    const first = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }), signal: ac.signal });
    t.match(first.error, { code: 'INTERRUPTED' }, `stopped at request ${stopAt}`);
    gl.onMrRequest = undefined;
    const again = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }), state: first.lastState });
    t.equal(again.error, null);
    const ids = new Set([...recordIds(first.messages, 'merge_requests'), ...recordIds(again.messages, 'merge_requests')]);
    t.equal(ids.size, 1500, `nothing lost when stopped at request ${stopAt}`);
  }
});

t.test('merge requests updated while a split scan runs are emitted by this run or the next one, never lost', async (t) => {
  for (const editAt of [3, 8, 14]) {
    const mrs = bigProject(1500);
    const gl = fakeGitLab({ projects: [project(1, 'big')], mrs, users: [user(1)] });
    gl.onMrRequest = (n) => {
      // Rows from the start, the middle and the end of the project jump past every range.
      if (n === editAt) for (const i of [10, 699, 1490]) (mrs[i] as FakeMr).updated_at = new Date(Date.parse('2024-05-31T00:00:00.000Z') + i).toISOString();
    };
    const res = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }) });
    t.equal(res.error, null);
    gl.onMrRequest = undefined;
    const next = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4 }), state: res.lastState });
    const ids = new Set([...recordIds(res.messages, 'merge_requests'), ...recordIds(next.messages, 'merge_requests')]);
    t.equal(ids.size, 1500, `every merge request (edited at request ${editAt})`);
    t.ok([11, 700, 1491].every((id) => recordIds(next.messages, 'merge_requests').includes(id) || recordIds(res.messages, 'merge_requests').includes(id)));
  }
});

t.test('with max_records_per_sync a scan is never split, so that every chunk moves the bookmark', async (t) => {
  const gl = fakeGitLab({ projects: [project(1, 'big')], mrs: bigProject(1500), users: [user(1)] });
  const res = await runOnce({ gitlab: gl, config: testConfig({ concurrency: 4, maxRecordsPerSync: 1200 }) });
  t.equal(res.error, null);
  t.notOk(gl.calls.some((c) => c.includes('updated_before=')), 'no bounded range');
});

t.test('a merge request after a tie is not lost when a tie row is edited while the tie is stepped (this run or the next)', async (t) => {
  const T = '2024-01-01T00:00:00.000Z';
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 10; i += 1) mrs.push(mr(i, 1, T)); // a bulk edit: exactly one page of 10
  for (let i = 11; i <= 15; i += 1) mrs.push(mr(i, 1, new Date(Date.parse(T) + (i - 10) * 1000).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'p')], mrs, users: [user(1)] });
  // The third merge request page is the page=2 step at the tie: MR 1 (already emitted) is edited just before it.
  gl.onMrRequest = (n) => {
    if (n === 3) (mrs[0] as FakeMr).updated_at = '2024-05-31T00:00:00.000Z';
  };
  const config = testConfig({ pageSize: 10, syncUsersTable: false, syncProjectsTable: false });
  const first = await runOnce({ gitlab: gl, config });
  t.equal(first.error, null);
  gl.onMrRequest = undefined;
  const second = await runOnce({ gitlab: gl, config, state: first.lastState, clock: first.clock });
  t.equal(second.error, null);
  const got = new Set([...recordIds(first.messages, 'merge_requests'), ...recordIds(second.messages, 'merge_requests')]);
  t.same([...got].sort((a, b) => a - b), mrs.map((m) => m.id).sort((a, b) => a - b), 'every merge request, MR 11 included');
  t.ok(recordIds(first.messages, 'merge_requests').includes(11), 'MR 11 already in the first run');
});

t.test('a split scan: a tie row edited past the split point while the tie is stepped does not lose its neighbour', async (t) => {
  const T = '2024-02-01T00:00:00.000Z';
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 60; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1) + i).toISOString()));
  for (let i = 101; i <= 120; i += 1) mrs.push(mr(i, 1, T)); // a bulk edit of two pages
  for (let i = 201; i <= 300; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 3, 1) + i * 60_000).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'p')], mrs, users: [user(1)] });
  const inner = gl.fetch;
  let edited = false;
  gl.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const q = new URL(input instanceof Request ? input.url : String(input)).searchParams;
    if (!edited && q.get('updated_after') === T && q.get('page') === '2' && q.get('updated_before')?.startsWith(T.slice(0, -1)) !== true) {
      // MR 101 (already emitted) is edited just before the page=2 step of the tie.
      edited = true;
      (mrs.find((m) => m.id === 101) as FakeMr).updated_at = '2024-05-31T00:00:00.000Z';
    }
    return inner(input, init);
  }) as typeof fetch;
  const config = testConfig({ pageSize: 10, concurrency: 2, syncUsersTable: false, syncProjectsTable: false });
  const first = await runOnce({ gitlab: gl, config });
  t.equal(first.error, null);
  t.ok(edited, 'the tie was stepped');
  t.ok(first.logs.some((l) => /Splitting/.test(l)), 'the scan was split');
  const second = await runOnce({ gitlab: gl, config, state: first.lastState, clock: first.clock });
  const got = new Set([...recordIds(first.messages, 'merge_requests'), ...recordIds(second.messages, 'merge_requests')]);
  t.same(mrs.map((m) => m.id).filter((id) => !got.has(id)), [], 'no merge request missing after this run and the next');
});

t.test('lookback_minutes with a small max_records_per_sync still moves the bookmark run by run', async (t) => {
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 100; i += 1) mrs.push(mr(i, 1, new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'p')], mrs, users: [user(1)] });
  const base = { pageSize: 10, syncUsersTable: false, syncProjectsTable: false };
  const first = await runOnce({ gitlab: gl, config: testConfig(base) });
  t.equal(recordIds(first.messages, 'merge_requests').length, 100);
  // A new merge request after the bookmark; the lookback window (2 h) holds all 100 older ones, the budget 20.
  mrs.push(mr(101, 1, '2024-03-01T00:00:00.000Z'));
  const config = testConfig({ ...base, lookbackMinutes: 120, maxRecordsPerSync: 20 });
  let state: unknown = first.lastState;
  let clock = first.clock;
  const stops: string[] = [];
  let seen101 = false;
  for (let run = 0; run < 15 && !seen101; run += 1) {
    clock.advance(60_000);
    const res = await runOnce({ gitlab: gl, config, state, clock });
    t.equal(res.error, null);
    clock = res.clock;
    seen101 = recordIds(res.messages, 'merge_requests').includes(101);
    state = res.lastState;
    stops.push(String(res.summary?.stoppedBy));
  }
  t.ok(seen101, `MR 101 emitted (runs stopped by: ${stops.join(', ')})`);
  t.ok(stops.length <= 7, 'within the runs that 101 rows over a budget of 20 need');
});

/** Three projects of five merge requests, each by its own author. */
function fifteen() {
  const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();
  const mrs: FakeMr[] = [];
  let id = 1;
  for (const p of [1, 2, 3]) for (let i = 0; i < 5; i += 1, id += 1) mrs.push(mr(id, p, at(id), id));
  return fakeGitLab({ projects: [project(1, 'a'), project(2, 'b'), project(3, 'c')], mrs, users: Array.from({ length: 15 }, (_, i) => user(i + 1)) });
}

t.test('users pending from an interrupted run survive a run without the users stream, and a later run emits them', async (t) => {
  const gl = fifteen();
  const stop = new AbortController();
  gl.onMrRequest = (n) => {
    if (n === 2) stop.abort();
  };
  const first = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 5 }), signal: stop.signal });
  const owed = (first.lastState?.users_pending ?? []) as number[];
  t.ok(owed.length > 0, 'the interrupted run owes users');
  gl.onMrRequest = undefined;
  const second = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 5, syncUsersTable: false }), state: first.lastState });
  t.same(second.lastState?.users_pending, owed, 'kept as found');
  const third = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 5 }), state: second.lastState });
  const users = new Set([...recordIds(first.messages, 'users'), ...recordIds(third.messages, 'users')]);
  t.same([...users].sort((a, b) => a - b), [1, 2, 3, 4, 5], 'the users of the interrupted run\'s merge requests are emitted');
});

t.test('a run that emits everything exactly at max_records_per_sync is complete, not stopped by the limit', async (t) => {
  const gl = fifteen();
  // 3 projects + 15 merge requests + 15 users.
  const res = await runOnce({ gitlab: gl, config: testConfig({ maxRecordsPerSync: 33 }) });
  t.equal(res.summary?.stoppedBy, 'complete');
  t.type(res.lastState?.last_sync_completed_at, 'string', 'sync_interval_hours can count from it');
  const cut = await runOnce({ gitlab: fifteen(), config: testConfig({ maxRecordsPerSync: 10, pageSize: 5 }) });
  t.equal(cut.summary?.stoppedBy, 'max_records', 'a run the limit cuts short still says so');
  t.equal(cut.lastState?.last_sync_completed_at, undefined);
});

t.test('a start_date in the future by mistake does not become a bookmark: once corrected, nothing before it is hidden', async (t) => {
  const gl = fifteen();
  const first = await runOnce({ gitlab: gl, config: testConfig({ startDate: '2030-01-01T00:00:00.000Z' }) });
  t.same(recordIds(first.messages, 'merge_requests'), []);
  t.same(first.lastState?.bookmarks.merge_requests?.partitions ?? [], [], 'no merge request bookmark from start_date alone');
  (gl.mrs.find((m) => m.id === 1) as FakeMr).updated_at = '2024-06-01T00:30:00.000Z';
  const second = await runOnce({ gitlab: gl, config: testConfig({ startDate: '2024-01-01T00:00:00.000Z' }), state: first.lastState });
  t.ok(recordIds(second.messages, 'merge_requests').includes(1));
  t.equal(recordIds(second.messages, 'merge_requests').length, 15, 'every merge request since the corrected start_date');
});

t.test('a reader that closes stdout during the last users batch is reported as such, not as a complete run', async (t) => {
  const summary = await syncInto(fifteen(), (chunk) => chunk.toString().includes('"type":"RECORD","stream":"users"'));
  t.equal(summary.stoppedBy, 'stdout_closed');
  t.equal(summary.exitCode, 0);
});

/** One project of 15 merge requests; `authorOf` picks each author, `known` how many users GraphQL knows. */
function oneProject(authorOf: (id: number) => number = (id) => id, known = 15) {
  const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();
  const mrs: FakeMr[] = [];
  for (let id = 1; id <= 15; id += 1) mrs.push(mr(id, 1, at(id), authorOf(id)));
  return fakeGitLab({ projects: [project(1, 'a')], mrs, users: Array.from({ length: known }, (_, i) => user(i + 1)) });
}

t.test('with user_enrichment none the users of every page are emitted before its STATE: an interrupted run owes none', async (t) => {
  const gl = oneProject();
  const stop = new AbortController();
  gl.onMrRequest = (n) => {
    if (n === 2) stop.abort();
  };
  const first = await runOnce({ gitlab: gl, config: testConfig({ pageSize: 5, userEnrichment: 'none' }), signal: stop.signal });
  const users = new Set(recordIds(first.messages, 'users'));
  for (const id of recordIds(first.messages, 'merge_requests')) t.ok(users.has(id), `the author of MR ${id} is emitted by the same run`);
  t.same(first.lastState?.users_pending, [], 'nothing owed');
});

t.test('users owed by an interrupted run are looked up by id while GraphQL is unavailable: emitted with their fields, never a row of nulls', async (t) => {
  const gl = oneProject();
  const stop = new AbortController();
  gl.onMrRequest = (n) => {
    if (n === 2) stop.abort();
  };
  const config = testConfig({ pageSize: 5 });
  const first = await runOnce({ gitlab: gl, config, signal: stop.signal });
  gl.onMrRequest = undefined;
  const owed = (first.lastState?.users_pending ?? []) as number[];
  t.ok(owed.length > 0, 'the interrupted run owes users');
  const inner = gl.fetch;
  const down = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    if (url.endsWith('/api/graphql')) return new Response(JSON.stringify({ message: '403 Forbidden' }), { status: 403, headers: { 'content-type': 'application/json' } });
    return inner(input, init);
  }) as typeof globalThis.fetch;
  const second = await runOnce({ gitlab: { ...gl, fetch: down }, config, state: first.lastState });
  const emitted = second.messages.filter((m) => m.type === 'RECORD' && m.stream === 'users').map((m) => m.record as { id: number; username: unknown });
  for (const id of owed) t.match(emitted.find((u) => u.id === id), { id, username: `user${id}` }, `user ${id} emitted from GET /users/${id}`);
  t.notOk(emitted.some((u) => u.username === null), 'no row of nulls');
  t.same(second.lastState?.users_pending ?? [], [], 'nothing owed any more');
  t.same(gl.calls.filter((c) => /\/users\/\d+$/.test(c)).length, owed.length, 'one request per owed user');
  const users = new Set([...recordIds(first.messages, 'users'), ...recordIds(second.messages, 'users')]);
  for (const id of recordIds(first.messages, 'merge_requests')) t.ok(users.has(id), `the author of MR ${id} is emitted`);
});

t.test('out of budget, a set-aside project whose lookback re-reads have not moved it yet goes on until it moves', async (t) => {
  const mrs: FakeMr[] = [];
  // Project 1: 30 merge requests inside the hour before its bookmark, one after it. Project 2: never synced.
  for (let i = 0; i < 30; i += 1) mrs.push(mr(100 + i, 1, new Date(Date.UTC(2024, 4, 1, 10, 5 + i)).toISOString(), 1));
  mrs.push(mr(200, 1, '2024-05-01T11:01:00.000Z', 1));
  for (let i = 0; i < 5; i += 1) mrs.push(mr(300 + i, 2, new Date(Date.UTC(2024, 4, 1, 9, i)).toISOString(), 2));
  const gl = fakeGitLab({ projects: [project(1, 'a'), project(2, 'b')], mrs, users: [user(1), user(2)] });
  const config = testConfig({ pageSize: 5, maxRecordsPerSync: 10, lookbackMinutes: 60, syncProjectsTable: false, syncUsersTable: false });
  let state: unknown = { version: 1, bookmarks: { merge_requests: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: '2024-05-01T11:00:00.000Z' }] } } };
  let saw200 = false;
  for (let run = 0; run < 4 && !saw200; run += 1) {
    const res = await runOnce({ gitlab: gl, config, state });
    saw200 = recordIds(res.messages, 'merge_requests').includes(200);
    state = res.lastState;
  }
  t.ok(saw200, 'MR 200, after project 1\'s bookmark, is emitted');
});

/** 20 projects, each with 30 merge requests (each by its own author) in the hour before its bookmark; one new merge request in project 20. */
function lookbackWorld() {
  const mrs: FakeMr[] = [];
  const projects = [];
  const partitions = [];
  const users = [user(1)];
  for (let p = 1; p <= 20; p += 1) {
    projects.push(project(p, `p${p}`));
    partitions.push({ context: { project_id: p }, replication_key: 'updated_at', replication_key_value: '2024-05-01T11:00:00.000Z' });
    for (let i = 0; i < 30; i += 1) {
      users.push(user(p * 100 + i));
      mrs.push(mr(p * 1000 + i, p, new Date(Date.UTC(2024, 4, 1, 10, 5 + i)).toISOString(), p * 100 + i));
    }
  }
  mrs.push(mr(999999, 20, '2024-05-01T11:30:00.000Z', 1));
  return { gl: fakeGitLab({ projects, mrs, users }), partitions };
}

t.test('max_records_per_sync counts neither lookback re-reads nor users: a budget smaller than the lookback windows still reaches every project', async (t) => {
  for (const [label, over, stream] of [
    ['merge requests and users', {}, 'merge_requests'],
    ['users only', { syncMergeRequestsTable: false }, 'users'],
  ] as const) {
    const { gl, partitions } = lookbackWorld();
    const config = testConfig({ maxRecordsPerSync: 150, lookbackMinutes: 60, syncProjectsTable: false, ...over });
    const res = await runOnce({ gitlab: gl, config, state: { version: 1, bookmarks: { [stream]: { partitions } } } });
    t.equal(res.summary?.stoppedBy, 'complete', `${label}: one new merge request is well within the budget`);
    if (stream === 'merge_requests') t.ok(recordIds(res.messages, 'merge_requests').includes(999999), `${label}: the new merge request of project 20`);
    t.ok(recordIds(res.messages, 'users').includes(1), `${label}: its author`);
  }
});

t.test('rows at the bookmark\'s own instant that the bookmark does not list count against max_records_per_sync', async (t) => {
  const T = '2024-01-01T00:00:00.000Z';
  const mrs: FakeMr[] = [];
  for (let i = 1; i <= 500; i += 1) mrs.push(mr(i, 1, T)); // a bulk edit wider than the budget
  for (let i = 501; i <= 1100; i += 1) mrs.push(mr(i, 1, new Date(Date.parse(T) + i * 1000).toISOString()));
  const gl = fakeGitLab({ projects: [project(1, 'p')], mrs, users: [user(1)] });
  const config = testConfig({ maxRecordsPerSync: 250, syncProjectsTable: false, syncUsersTable: false });
  const first = await runOnce({ gitlab: gl, config });
  t.equal(first.summary?.stoppedBy, 'max_records');
  const second = await runOnce({ gitlab: gl, config, state: first.lastState });
  t.ok(recordIds(second.messages, 'merge_requests').length <= 350, `the second run stops near the budget (${recordIds(second.messages, 'merge_requests').length})`);
});

t.test('a project updated later within the same millisecond as its bookmark is emitted: bookmarks are compared to the microsecond', async (t) => {
  const gl = fakeGitLab({ projects: [project(1, 'p', { updated_at: '2024-05-01T00:00:00.123900Z' })], mrs: [] });
  const config = testConfig({ syncMergeRequestsTable: false, syncUsersTable: false });
  const state = { version: 1, bookmarks: { projects: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: '2024-05-01T00:00:00.123456Z' }] } } };
  const res = await runOnce({ gitlab: gl, config, state });
  t.same(recordIds(res.messages, 'projects'), [1]);
  const again = await runOnce({ gitlab: gl, config, state: res.lastState });
  t.same(recordIds(again.messages, 'projects'), [], 'and not again once the bookmark has it');
});

t.test('max_records_per_sync below the projects that change before every run: each run still reaches other projects and their merge requests', async (t) => {
  const projects = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => project(id, `p${id}`, { updated_at: ts(1) }));
  const mrs: FakeMr[] = [];
  for (const p of projects) for (let k = 0; k < 3; k += 1) mrs.push(mr(p.id * 10 + k, p.id, ts(2 + k)));
  const gl = fakeGitLab({ projects, mrs, users: [user(1)] });
  const config = testConfig({ maxRecordsPerSync: 5 });
  const everProjects = new Set<number>();
  const everMrs = new Set<number>();
  let state: unknown = undefined;
  let runs = 0;
  for (; runs < 12 && (everProjects.size < 8 || everMrs.size < mrs.length); runs += 1) {
    const res = await runOnce({ gitlab: gl, config, ...(state === undefined ? {} : { state }) });
    t.equal(res.error, null);
    for (const id of recordIds(res.messages, 'projects')) everProjects.add(id);
    for (const id of recordIds(res.messages, 'merge_requests')) everMrs.add(id);
    state = res.lastState;
    // Before the next run, activity moves five projects' updated_at: as many as the budget.
    for (const p of projects.slice(0, 5)) p.updated_at = new Date(Date.parse(p.updated_at) + 60_000).toISOString();
  }
  t.same([...everProjects].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8], `every project emitted (${runs} runs)`);
  t.equal(everMrs.size, mrs.length, 'every merge request emitted');
});

for (const variant of ['merge requests disabled (403)', 'no merge request at all'] as const) {
  t.test(`max_records_per_sync spent by projects every run, with a project whose scan cannot move (${variant}): the next scans go on until one moves`, async (t) => {
    const projects = [2, 3, 4, 5, 6, 7, 8, 9].map((id) => project(id, `p${id}`, { updated_at: ts(1) }));
    // Never a bookmark, so always first: before the fix it took each run's one scan and moved nothing.
    projects.unshift(project(1, 'p1', { updated_at: ts(1), ...(variant.includes('403') ? { mrStatus: 403 } : {}) }));
    const mrs: FakeMr[] = [];
    for (const p of projects.slice(1)) for (let k = 0; k < 3; k += 1) mrs.push(mr(p.id * 10 + k, p.id, ts(2 + k)));
    const gl = fakeGitLab({ projects, mrs, users: [user(1)] });
    const config = testConfig({ maxRecordsPerSync: 5 });
    const everMrs = new Set<number>();
    let state: unknown = undefined;
    let runs = 0;
    for (; runs < 30 && everMrs.size < mrs.length; runs += 1) {
      const res = await runOnce({ gitlab: gl, config, ...(state === undefined ? {} : { state }) });
      t.equal(res.error, null);
      for (const id of recordIds(res.messages, 'merge_requests')) everMrs.add(id);
      state = res.lastState;
      for (const p of projects.slice(1, 6)) p.updated_at = new Date(Date.parse(p.updated_at) + 60_000).toISOString();
    }
    t.equal(everMrs.size, mrs.length, `every merge request emitted (${runs} runs)`);
  });
}

t.test('max_records_per_sync spent by projects every run, with a dormant project furthest behind: each run still emits what is new elsewhere', async (t) => {
  const projects = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => project(id, `p${id}`, { updated_at: ts(1) }));
  const mrs: FakeMr[] = [mr(10, 1, ts(2))]; // project 1: one old merge request, nothing since
  for (const p of projects.slice(1)) mrs.push(mr(p.id * 10, p.id, ts(3)));
  const gl = fakeGitLab({ projects, mrs, users: [user(1)] });
  let state: unknown = (await runOnce({ gitlab: gl, config: testConfig() })).lastState;
  const config = testConfig({ maxRecordsPerSync: 5 });
  for (let run = 0; run < 8; run += 1) {
    for (const p of projects.slice(1, 6)) p.updated_at = ts(11 + run);
    const fresh = mr(1000 + run, (projects[1 + run] as { id: number }).id, ts(11 + run));
    mrs.push(fresh);
    const res = await runOnce({ gitlab: gl, config, state });
    t.ok(recordIds(res.messages, 'merge_requests').includes(fresh.id), `run ${run + 1}: the new merge request ${fresh.id}`);
    state = res.lastState;
  }
});
