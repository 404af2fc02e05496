import t from 'tap';
import fetchMock from 'fetch-mock';
import { fakeClock } from '../lib/clock.js';
import { GitLabClient } from '../lib/gitlab/client.js';
import { memoryLogger } from '../lib/log.js';
import { validateRecord } from '../lib/singer/schema-contract.js';
import { plainSchema } from '../lib/singer/schema-helpers.js';
import { UserCollector, type UserEnrichment } from '../lib/streams/users.js';
import { userSchema, type UserRecord } from '../lib/streams/users-schema.js';
import { BASE, TOKEN, user } from './helpers/fake-gitlab.js';

const API = `${BASE}/api/v4`;

function setup(mode: UserEnrichment) {
  const fm = fetchMock.createInstance();
  const logger = memoryLogger();
  const client = new GitLabClient({ apiUrl: API, token: TOKEN, tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 0, concurrency: 1, fetch: fm.fetchHandler as unknown as typeof fetch, clock: fakeClock(), logger });
  const collector = new UserCollector({ client, mode, logger });
  const out: UserRecord[] = [];
  const write = async (u: UserRecord) => {
    out.push(u);
  };
  return { fm, collector, out, write, logger };
}

/** A users(ids:) node as GitLab's GraphQL answers it. */
const gqlNode = (id: number) => ({ id: `gid://gitlab/User/${id}`, username: `user${id}`, name: `User ${id}`, state: 'active', publicEmail: `u${id}@example.com`, createdAt: '2020-01-02T03:04:05Z', avatarUrl: null, webUrl: `${BASE}/user${id}`, bot: false, location: 'Zürich', jobTitle: null, organization: null });
/** A one-page users(ids:) answer. */
const gqlUsers = (nodes: unknown[]) => ({ data: { users: { nodes, pageInfo: { hasNextPage: false, endCursor: null } } } });

/** POST /api/graphql answering `answer(ids asked, n)`, n counting the calls from 1. */
function graphqlAnswers(fm: ReturnType<typeof fetchMock.createInstance>, answer: (ids: number[], n: number) => unknown) {
  let n = 0;
  fm.post(`${BASE}/api/graphql`, (callLog) => {
    const body = JSON.parse(String(callLog.options.body)) as { variables: { ids: string[] } };
    n += 1;
    return answer(body.variables.ids.map((g) => Number(g.split('/').pop())), n) as object;
  });
}

function graphqlRoute(fm: ReturnType<typeof fetchMock.createInstance>, known: (id: number) => boolean = () => true) {
  graphqlAnswers(fm, (ids) => gqlUsers(ids.filter(known).map(gqlNode)));
}

t.test('users are enriched 100 per GraphQL request; a partial batch waits for the end', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  graphqlRoute(fm);
  collector.add(Array.from({ length: 250 }, (_, i) => user(i + 1)));
  await collector.flush(write, { all: false });
  t.equal(out.length, 200);
  t.equal(collector.pendingCount, 50);
  t.equal(fm.callHistory.calls().length, 2);
  await collector.flush(write, { all: true });
  t.equal(out.length, 250);
  t.equal(fm.callHistory.calls().length, 3);
  const sizes = fm.callHistory.calls().map((c) => (JSON.parse(String(c.options.body)) as { variables: { ids: string[] } }).variables.ids.length);
  t.same(sizes, [100, 100, 50]);
  t.match(out[0], { id: 1, username: 'user1', public_email: 'u1@example.com', created_at: '2020-01-02T03:04:05.000Z', location: 'Zürich' });
});

t.test('each user is emitted once per run, however many merge requests name them', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  graphqlRoute(fm);
  collector.add([user(1), user(2), user(1)]);
  await collector.flush(write, { all: true });
  collector.add([user(2), user(3)]);
  await collector.flush(write, { all: true });
  t.same(out.map((u) => u.id), [1, 2, 3]);
});

t.test('pending ids from an earlier run are emitted from their profile; vanished users are not invented', async (t) => {
  const { fm, collector, out, write, logger } = setup('graphql');
  graphqlRoute(fm, (id) => id !== 9);
  collector.restore([7, 9]);
  t.same(collector.pendingIds(), [7, 9]);
  await collector.flush(write, { all: true });
  t.same(out.map((u) => [u.id, u.username]), [[7, 'user7']]);
  t.ok(logger.lines.some((l) => l.includes('User 9')));
});

/** GET /users/:id: the public view for the ids in `profiles`, 404 for the others. */
function userRoute(fm: ReturnType<typeof fetchMock.createInstance>, known: ReadonlySet<number>) {
  fm.get(`begin:${API}/users/`, (callLog) => {
    const id = Number(new URL(callLog.url).pathname.split('/').pop());
    if (!known.has(id)) return { status: 404, body: { message: '404 User Not Found' } };
    return { id, username: `user${id}`, name: `User ${id}`, state: 'active', locked: true, avatar_url: null, web_url: `${BASE}/user${id}`, created_at: '2020-01-02T03:04:05Z', bot: false, public_email: '' };
  });
}

t.test('none mode: ids pending from an earlier run are looked up one by one, since no merge request need name them again; a 404 is a user that no longer exists', async (t) => {
  const { fm, collector, out, write } = setup('none');
  userRoute(fm, new Set([9]));
  collector.restore([7, 9]);
  collector.add(Array.from({ length: 100 }, (_, i) => user(i + 101)));
  await collector.flush(write, { all: false });
  t.same(out.map((u) => u.id), [9, ...Array.from({ length: 98 }, (_, i) => i + 101)], 'user 9 from its profile, user 7 gone, the embedded ones as they are');
  t.match(out[0], { id: 9, username: 'user9', locked: true, created_at: '2020-01-02T03:04:05.000Z' }, 'every field a merge request embeds, locked included');
  t.same(validateRecord(plainSchema(userSchema), out[0]), [], 'a valid users record');
  t.same(collector.pendingIds(), [199, 200]);
  t.same(fm.callHistory.calls().map((c) => new URL(c.url).pathname), ['/api/v4/users/7', '/api/v4/users/9'], 'only the restored ids are asked for');
});

t.test('a user GET /users/:id hides (403) is unknown, not gone: a restored id stays owed and the run goes on', async (t) => {
  const { fm, collector, out, write } = setup('none');
  fm.get(`begin:${API}/users/`, { status: 403, body: { message: '403 Forbidden' } });
  collector.restore([7]);
  collector.add([user(8)]);
  await collector.flush(write, { all: true });
  t.same(out.map((u) => u.id), [8]);
  t.same(collector.pendingIds(), [7]);
});

t.test('a restored id GET /users/:id cannot answer is asked once per run, not again before every STATE', async (t) => {
  const { fm, collector, out, write } = setup('none');
  fm.get(`begin:${API}/users/`, { status: 403, body: { message: '403 Forbidden' } });
  collector.restore([7, 8]);
  for (let page = 0; page < 5; page += 1) {
    collector.add([user(100 + page)]);
    await collector.flush(write, { all: true });
  }
  t.same(out.map((u) => u.id), [100, 101, 102, 103, 104]);
  t.same(collector.pendingIds(), [7, 8], 'still owed, for a later run');
  t.equal(fm.callHistory.calls().length, 2, 'one request per id for the whole run');
});

t.test('users: null beside an error (the whole field failed) costs that batch its profiles, not the run', async (t) => {
  const { fm, collector, out, write, logger } = setup('graphql');
  graphqlAnswers(fm, (ids, n) => (n === 1 ? { data: { users: null }, errors: [{ message: 'Internal server error', path: ['users'] }] } : gqlUsers(ids.map(gqlNode))));
  collector.add(Array.from({ length: 300 }, (_, i) => user(i + 1)));
  await collector.flush(write, { all: true });
  t.equal(fm.callHistory.calls().length, 3);
  t.equal(out.filter((u) => u.created_at !== null).length, 200);
  t.ok(logger.lines.some((l) => /failed for one batch .*Internal server error/.test(l)), "GitLab's own message is quoted");
});

t.test('GraphQL unavailable (403): ids pending from an earlier run are looked up one by one, never dropped as vanished nor left owed for good', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  fm.post(`${BASE}/api/graphql`, { status: 403, body: { message: '403 Forbidden' } });
  userRoute(fm, new Set([7]));
  collector.restore([7, 9]);
  collector.add(Array.from({ length: 100 }, (_, i) => user(i + 101)));
  await collector.flush(write, { all: false });
  t.same(out.map((u) => u.id), Array.from({ length: 98 }, (_, i) => i + 101), 'the failed batch goes out with embedded fields; the restored ids wait');
  t.same(collector.pendingIds(), [7, 9, 199, 200]);
  collector.add([user(9)]);
  await collector.flush(write, { all: true });
  t.same(out.slice(98).map((u) => [u.id, u.username, u.locked]), [[7, 'user7', true], [9, 'user9', false], [199, 'user199', false], [200, 'user200', false]]);
  t.same(collector.pendingIds(), [], 'nothing owed');
  t.same(fm.callHistory.calls().map((c) => new URL(c.url).pathname), ['/api/graphql', '/api/v4/users/7'], 'no GraphQL call after the fallback; user 9 came from a merge request');
});

t.test('a GraphQL answer in part (a null node beside an error) keeps what it returned: the run goes on enriching', async (t) => {
  const { fm, collector, out, write, logger } = setup('graphql');
  graphqlAnswers(fm, (ids, n) => ({
    ...gqlUsers(ids.map((id) => (id === 5 || id === 999 ? null : gqlNode(id)))),
    errors: n === 1 ? [{ message: 'Internal server error', path: ['users', 'nodes', 4] }] : [],
  }));
  collector.restore([999]);
  collector.add(Array.from({ length: 199 }, (_, i) => user(i + 1)));
  await collector.flush(write, { all: true });
  t.equal(fm.callHistory.calls().length, 2, 'the second batch is enriched too');
  const byId = new Map(out.map((u) => [u.id, u]));
  t.equal(byId.get(1)?.created_at, '2020-01-02T03:04:05.000Z', 'the users GraphQL returned have their profile');
  t.equal(byId.get(150)?.created_at, '2020-01-02T03:04:05.000Z', 'and so do the next batch\'s');
  t.match(byId.get(5), { id: 5, username: 'user5', created_at: null }, 'the null node is emitted with its embedded fields');
  t.notOk(byId.has(999), 'a restored id missing beside an error is not taken for a user that no longer exists');
  t.same(collector.pendingIds(), [999], 'it stays owed');
  t.equal(logger.lines.filter((l) => /answered in part/.test(l)).length, 1, 'said once');
});

t.test('GraphQL errors alone that do not say the query is wrong cost one batch its profiles, not the run', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  graphqlAnswers(fm, (ids, n) => (n === 1 ? { errors: [{ message: 'Timeout on users' }] } : gqlUsers(ids.map(gqlNode))));
  collector.add(Array.from({ length: 200 }, (_, i) => user(i + 1)));
  await collector.flush(write, { all: true });
  t.equal(fm.callHistory.calls().length, 2);
  t.equal(out.filter((u) => u.created_at !== null).length, 100, 'the second batch has its profiles');
  const schema = setup('graphql');
  schema.fm.post(`${BASE}/api/graphql`, { errors: [{ message: "Field 'users' doesn't exist on type 'Query'" }] });
  schema.collector.add(Array.from({ length: 200 }, (_, i) => user(i + 1)));
  await schema.collector.flush(schema.write, { all: true });
  t.equal(schema.fm.callHistory.calls().length, 1, 'a query this GitLab cannot run is not asked again');
});

t.test('a restored id that a merge request names during its lookup is emitted from that merge request, even if the lookup does not find it', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  fm.post(`${BASE}/api/graphql`, () => {
    // A project worker reads a merge request naming user 9 while GitLab answers.
    collector.add([user(9)]);
    return { data: { users: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } };
  });
  collector.restore([7, 9]);
  await collector.flush(write, { all: true });
  t.same(out.map((u) => [u.id, u.username]), [[9, 'user9']], 'user 7 is gone; user 9 is not lost');
  t.equal(collector.pendingCount, 0);
});

t.test('a GraphQL lookup that fails on a later page answers for nobody: restored ids it did not return stay pending', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  let n = 0;
  fm.post(`${BASE}/api/graphql`, () => {
    n += 1;
    if (n > 1) return { status: 405, body: { message: '405 Method Not Allowed' } };
    const node = { id: 'gid://gitlab/User/7', username: 'user7', name: 'User 7', state: 'active', publicEmail: null, createdAt: null, avatarUrl: null, webUrl: null, bot: false, location: null, jobTitle: null, organization: null };
    return { data: { users: { nodes: [node], pageInfo: { hasNextPage: true, endCursor: 'c1' } } } };
  });
  fm.get(`${API}/users/9`, { status: 403, body: { message: '403 Forbidden' } });
  collector.restore([7, 9]);
  await collector.flush(write, { all: true });
  t.same(out.map((u) => [u.id, u.username]), [[7, 'user7']]);
  t.same(collector.pendingIds(), [9]);
  t.equal(fm.callHistory.calls().filter((c) => c.url.endsWith('/users/9')).length, 1, 'after the fallback, asked once by id');
});

t.test('per_user mode drops a restored id only on a 404', async (t) => {
  const { fm, collector, out, write } = setup('per_user');
  fm.get(`${API}/users/7`, { status: 404, body: { message: '404 User Not Found' } });
  fm.get(`${API}/users/9`, { message: 'not a user' });
  collector.restore([7, 9]);
  await collector.flush(write, { all: true });
  t.same(out, [], 'user 7 is gone; nothing is known of user 9 yet');
  t.same(collector.pendingIds(), [9], 'user 9 (an answer that is not a user) stays pending');
});

t.test('a GitLab without GraphQL users: one warning, then embedded fields only, no more GraphQL calls', async (t) => {
  const { fm, collector, out, write, logger } = setup('graphql');
  fm.post(`${BASE}/api/graphql`, { status: 404, body: { message: '404 Not Found' } });
  collector.add(Array.from({ length: 150 }, (_, i) => user(i + 1)));
  await collector.flush(write, { all: true });
  t.equal(out.length, 150);
  t.equal(fm.callHistory.calls().length, 1);
  t.match(out[0], { id: 1, username: 'user1', public_email: null });
  t.equal(logger.lines.filter((l) => l.includes('WARN') && l.includes('GraphQL user lookup failed')).length, 1);
});

t.test('admin mode lists /users once (keyset) and takes the admin fields from it', async (t) => {
  const { fm, collector, out, write } = setup('admin');
  fm.get(`begin:${API}/users`, [
    { id: 1, username: 'user1', name: 'User 1', state: 'active', email: 'one@corp.example', last_activity_on: '2024-05-01', is_admin: false, created_at: '2019-01-01T00:00:00.000+02:00' },
    { id: 2, username: 'user2', name: 'User 2', state: 'blocked', email: 'two@corp.example', last_activity_on: null, is_admin: true, created_at: '2019-01-01T00:00:00Z' },
  ]);
  collector.add([user(1), user(2)]);
  await collector.flush(write, { all: true });
  collector.add([user(3)]);
  await collector.flush(write, { all: true });
  t.equal(fm.callHistory.calls().length, 1, 'the directory is listed once per run');
  t.match(fm.callHistory.calls()[0]?.url, /order_by=id&sort=asc&per_page=100&pagination=keyset/);
  t.match(out[0], { id: 1, email: 'one@corp.example', last_activity_on: '2024-05-01', created_at: '2018-12-31T22:00:00.000Z' });
  t.match(out[1], { id: 2, is_admin: true });
  t.match(out[2], { id: 3, email: null });
});

t.test('admin mode with a token that is not an admin\'s (the basic view, no is_admin) warns and uses GraphQL instead of listing the whole instance', async (t) => {
  const { fm, collector, out, write, logger } = setup('admin');
  fm.get(`begin:${API}/users`, { status: 200, body: [{ id: 1, username: 'user1', name: 'User 1', state: 'active', locked: false, avatar_url: null, web_url: `${BASE}/user1` }], headers: { link: `<${API}/users?page=2>; rel="next"` } });
  graphqlRoute(fm);
  collector.add([user(1), user(2)]);
  await collector.flush(write, { all: true });
  t.same(fm.callHistory.calls().map((c) => new URL(c.url).pathname), ['/api/v4/users', '/api/graphql'], 'one listing page, then GraphQL');
  t.match(out, [{ id: 1, created_at: '2020-01-02T03:04:05.000Z' }, { id: 2, created_at: '2020-01-02T03:04:05.000Z' }]);
  t.equal(logger.lines.filter((l) => /the token is not an admin's/.test(l)).length, 1);
});

t.test('admin mode keeps of each listed user only the fields a record takes', async (t) => {
  const { fm, collector, write } = setup('admin');
  fm.get(`begin:${API}/users`, [{ id: 1, username: 'user1', name: 'User 1', is_admin: false, email: 'one@corp.example', identities: [{ provider: 'ldap', extern_uid: 'x'.repeat(1000) }], bio: 'y'.repeat(1000) }]);
  collector.add([user(1)]);
  await collector.flush(write, { all: true });
  const dir = Reflect.get(collector, 'adminDirectory') as Map<number, Record<string, unknown>>;
  t.same(Object.keys(dir.get(1) ?? {}).sort(), ['email', 'id', 'is_admin', 'name', 'username']);
});

t.test('none mode makes no request at all', async (t) => {
  const { fm, collector, out, write } = setup('none');
  collector.add([user(1), user(2)]);
  await collector.flush(write, { all: true });
  t.equal(fm.callHistory.calls().length, 0);
  t.same(out.map((u) => u.id), [1, 2]);
});

t.test('per_user mode asks GET /users/:id for each user and tolerates 404', async (t) => {
  const { fm, collector, out, write } = setup('per_user');
  fm.get(`${API}/users/1`, { id: 1, username: 'user1', created_at: '2020-01-01T00:00:00Z' });
  fm.get(`${API}/users/2`, { status: 404, body: { message: '404 User Not Found' } });
  collector.add([user(1), user(2)]);
  await collector.flush(write, { all: true });
  t.same(fm.callHistory.calls().map((c) => c.url), [`${API}/users/1`, `${API}/users/2`]);
  t.same(out.map((u) => [u.id, u.created_at]), [[1, '2020-01-01T00:00:00.000Z'], [2, null]]);
});

t.test('concurrent flushes from several project workers emit each user once, in full batches', async (t) => {
  const { fm, collector, out, write } = setup('graphql');
  graphqlRoute(fm);
  collector.add(Array.from({ length: 300 }, (_, i) => user(i + 1)));
  await Promise.all([collector.flush(write, { all: false }), collector.flush(write, { all: false }), collector.flush(write, { all: false })]);
  t.equal(out.length, 300);
  t.equal(new Set(out.map((u) => u.id)).size, 300, 'no user twice');
  t.equal(fm.callHistory.calls().length, 3, 'three batches of 100, no repeated lookups');
});

t.test('a user named again by another worker while its record is being written is not emitted twice', async (t) => {
  const { fm, collector, out } = setup('graphql');
  graphqlRoute(fm);
  collector.add([user(1), user(2)]);
  // Another project worker reads a merge request naming user 1 while user 1's record waits on stdout.
  const write = async (u: UserRecord) => {
    out.push(u);
    await Promise.resolve();
    collector.add([user(1)]);
  };
  await collector.flush(write, { all: true });
  await collector.flush(write, { all: true });
  t.same(out.map((u) => u.id), [1, 2]);
  t.equal(collector.pendingCount, 0);
  t.equal(fm.callHistory.calls().length, 1, 'one lookup');
});

t.test('the pending list round-trips through the state: embedded users as objects, plain ids of older states as ids, anything else skipped', async (t) => {
  const { collector } = setup('none');
  collector.add([user(7)]);
  const entries = collector.pendingEntries();
  t.same(entries, [user(7)], 'the embedded object, as the state holds it');
  const next = setup('none');
  next.collector.restore([...entries, 8, 'nine', { id: 'x' }, null, { id: 5 }]);
  t.same(next.collector.pendingEntries(), [user(7), 8, 5], 'an object with nothing but an id counts as an id');
  userRoute(next.fm, new Set([8]));
  await next.collector.flush(next.write, { all: true });
  t.same(next.out.map((u) => [u.id, u.username]), [[7, 'user7'], [8, 'user8']], 'user 7 emitted with its fields, user 8 looked up, user 5 gone (404)');
});
