import t from 'tap';
import { startSimulator, generateDataset, isVisible, isMember } from './simulator/server.mjs';

type Sim = Awaited<ReturnType<typeof startSimulator>>;
type Row = Record<string, any>;

const small = { projects: 12, groups: 2, subgroupsPerGroup: 1, mergeRequestsPerProject: 20, users: 15, bulkEditSize: 30 };

async function withSim(opts: Record<string, unknown>, fn: (sim: Sim) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ ...small, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

function get(sim: Sim, path: string, init: RequestInit = {}): Promise<Response> {
  const url = path.startsWith('http') ? path : `${sim.url}/api/v4${path}`;
  return fetch(url, { ...init, headers: { 'PRIVATE-TOKEN': sim.token, ...(init.headers as Record<string, string> | undefined) } });
}

async function json(sim: Sim, path: string): Promise<Row[]> {
  const res = await get(sim, path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as Row[];
}

function nextLink(res: Response): string | null {
  const link = res.headers.get('link') ?? '';
  const m = /<([^>]+)>;\s*rel="next"/.exec(link);
  return m ? (m[1] as string) : null;
}

const ids = (rows: Row[]): number[] => rows.map((r) => r.id as number);

t.test('the dataset is deterministic for a seed and skewed', async (t) => {
  const a = generateDataset({ ...small, seed: 7 });
  const b = generateDataset({ ...small, seed: 7 });
  const c = generateDataset({ ...small, seed: 8 });
  t.same(a.mergeRequests.map((m) => [m.id, m.updated_at, m.title]), b.mergeRequests.map((m) => [m.id, m.updated_at, m.title]));
  t.notSame(a.mergeRequests.map((m) => m.updated_at), c.mergeRequests.map((m) => m.updated_at));
  const counts = a.projects.map((p) => a.mergeRequests.filter((m) => m.project_id === p.id).length);
  t.ok(counts.includes(0), 'some projects have no merge requests');
  t.ok(Math.max(...counts) >= 2 * small.mergeRequestsPerProject, 'some projects have many');
  t.equal(a.mergeRequests.length, small.projects * small.mergeRequestsPerProject);
  t.equal(new Set(a.mergeRequests.map((m) => m.id)).size, a.mergeRequests.length, 'MR ids are instance-unique');
  const bulk = a.bulkEdit!;
  t.equal(a.mergeRequests.filter((m) => m.project_id === bulk.projectId && m.updated_at === bulk.updatedAt).length, 30);
  for (const m of a.mergeRequests) {
    t.match(m.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    if (Date.parse(m.updated_at) < Date.parse(m.created_at)) t.fail(`MR ${m.id} updated before created`);
  }
  t.ok(a.mergeRequests.some((m) => /[^\x00-\x7f]/.test(m.title)), 'some titles are unicode');
  t.ok(a.mergeRequests.some((m) => (m.description ?? '').length > 100_000), 'one very large description');
  t.same(Object.keys(a.mergeRequests[0]!.author).sort(), ['avatar_url', 'id', 'locked', 'name', 'state', 'username', 'web_url']);
});

t.test('requires the token in a header and refuses it in the query string', async (t) => {
  await withSim({}, async (sim) => {
    const none = await fetch(`${sim.url}/api/v4/projects`);
    t.equal(none.status, 401);
    t.same(await none.json(), { message: '401 Unauthorized' });
    const wrong = await fetch(`${sim.url}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': 'nope' } });
    t.equal(wrong.status, 401);
    const query = await fetch(`${sim.url}/api/v4/user?private_token=${sim.token}`);
    t.equal(query.status, 401, 'private_token in the URL is not accepted');
    const bearer = await fetch(`${sim.url}/api/v4/user`, { headers: { Authorization: `Bearer ${sim.token}` } });
    t.equal(bearer.status, 200);
    t.equal(((await bearer.json()) as Row).username, sim.dataset.owner.username);
    const badBearer = await fetch(`${sim.url}/api/v4/user`, { headers: { Authorization: 'Bearer expired' } });
    t.equal(badBearer.status, 401);
    t.match(badBearer.headers.get('www-authenticate'), /invalid_token/);
    const version = await get(sim, '/version');
    t.match(await version.json(), { version: /^\d+\.\d+\.\d+/ });
  });
});

t.test('offset pages carry GitLab headers and drop totals above totalsCap', async (t) => {
  await withSim({ totalsCap: 5 }, async (sim) => {
    const visible = sim.dataset.projects.filter((p) => isVisible(p, false));
    const res = await get(sim, '/projects?order_by=id&sort=asc&per_page=4&page=2');
    t.equal(res.headers.get('x-page'), '2');
    t.equal(res.headers.get('x-per-page'), '4');
    t.equal(res.headers.get('x-next-page'), '3');
    t.equal(res.headers.get('x-prev-page'), '1');
    t.equal(res.headers.get('x-total'), null, 'X-Total dropped above the cap');
    t.equal(res.headers.get('x-total-pages'), null);
    t.notMatch(res.headers.get('link'), /rel="last"/);
    t.match(res.headers.get('link'), `<${sim.url}/api/v4/projects?order_by=id&sort=asc&per_page=4&page=3>; rel="next"`);
    t.same(ids((await res.json()) as Row[]), ids(visible).slice(4, 8));
    // under the cap: totals present, last page has an empty X-Next-Page
    const counts = ['public', 'internal', 'private'].map((v) => [v, visible.filter((p) => p.visibility === v).length] as const);
    const [fewest, fewCount] = counts.sort((a, b) => a[1] - b[1])[0]!;
    t.ok(fewCount <= 5, 'fixture: one visibility has at most totalsCap projects');
    const few = await get(sim, `/projects?visibility=${fewest}&per_page=100`);
    t.equal(few.headers.get('x-total'), String(fewCount));
    t.equal(few.headers.get('x-next-page'), '');
    t.match(few.headers.get('link'), /rel="last"/);
  });
});

t.test('clamps per_page to pageSizeMax', async (t) => {
  await withSim({ pageSizeMax: 3 }, async (sim) => {
    const res = await get(sim, '/projects?per_page=500');
    t.equal(res.headers.get('x-per-page'), '3');
    t.equal(((await res.json()) as Row[]).length, 3);
  });
});

t.test('answers 405 beyond the offset cap', async (t) => {
  await withSim({ offsetCap: 10 }, async (sim) => {
    t.equal((await get(sim, '/projects?per_page=5&page=2')).status, 200);
    const res = await get(sim, '/projects?per_page=5&page=3');
    t.equal(res.status, 405);
    t.same(await res.json(), {
      error: 'Offset pagination has a maximum allowed offset of 10 for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.',
    });
    const users = await get(sim, '/users?per_page=5&page=3');
    t.equal(users.status, 405);
    t.match(await users.json(), { error: /type User/ });
  });
});

t.test('keyset Link following reaches every visible project exactly once', async (t) => {
  await withSim({}, async (sim) => {
    let url: string | null = `${sim.url}/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=5`;
    const seen: number[] = [];
    let requests = 0;
    while (url) {
      const res = await get(sim, url);
      t.equal(res.status, 200);
      t.equal(res.headers.get('x-total'), null, 'keyset pages carry no totals');
      seen.push(...ids((await res.json()) as Row[]));
      url = nextLink(res);
      if (url) t.ok(url.startsWith(`${sim.url}/api/v4/projects?`) && url.includes('id_after='), url);
      if (++requests > 20) throw new Error('no end');
    }
    t.same(seen, ids(sim.dataset.projects.filter((p) => isVisible(p, false))));
    const bad = await get(sim, '/projects?pagination=keyset&order_by=name');
    t.equal(bad.status, 405);
  });
});

t.test('admin users list pages by keyset cursor; non-admins get the basic view in id desc', async (t) => {
  await withSim({ admin: true }, async (sim) => {
    let url: string | null = `${sim.url}/api/v4/users?pagination=keyset&order_by=id&sort=asc&per_page=4`;
    const seen: Row[] = [];
    while (url) {
      const res = await get(sim, url);
      seen.push(...((await res.json()) as Row[]));
      url = nextLink(res);
    }
    t.same(ids(seen), ids(sim.dataset.users));
    t.ok('email' in seen[0]!, 'admin view has email');
    const one = (await (await get(sim, `/users/${sim.dataset.users[2]!.id}`)).json()) as Row;
    t.ok('email' in one && 'last_activity_on' in one);
  });
  await withSim({}, async (sim) => {
    const rows = await json(sim, '/users?order_by=username&sort=asc&per_page=100');
    t.same(ids(rows), ids(sim.dataset.users).reverse(), 'order_by/sort dropped for non-admins');
    t.same(Object.keys(rows[0]!).sort(), ['avatar_url', 'id', 'locked', 'name', 'state', 'username', 'web_url']);
    const one = (await (await get(sim, `/users/${sim.dataset.users[2]!.id}`)).json()) as Row;
    t.ok('created_at' in one && 'public_email' in one && !('email' in one), 'public view');
    t.equal((await get(sim, '/users/999999')).status, 404);
  });
});

t.test('merge request updated_after is inclusive with order_by=updated_at', async (t) => {
  await withSim({}, async (sim) => {
    const ds = sim.dataset;
    const bulk = ds.bulkEdit!;
    const inProject = ds.mergeRequests.filter((m) => m.project_id === bulk.projectId);
    const pivot = inProject[Math.floor(inProject.length / 2)]!;
    const expected = inProject
      .filter((m) => Date.parse(m.updated_at) >= Date.parse(pivot.updated_at))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id);
    const got: Row[] = [];
    for (let page = 1; ; page++) {
      const res = await get(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=asc&per_page=100&page=${page}&updated_after=${encodeURIComponent(pivot.updated_at)}`);
      got.push(...((await res.json()) as Row[]));
      if (res.headers.get('x-next-page') === '') break;
    }
    t.same(ids(got), ids(expected));
    t.ok(got.some((m) => m.id === pivot.id), 'the boundary row is included');
    const through = pivot.updated_at.replace('Z', '999Z');
    const before = await json(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=desc&per_page=100&updated_before=${encodeURIComponent(through)}`);
    t.equal(before[0]!.updated_at, pivot.updated_at, 'updated_before is inclusive too, sorted desc');
    const ties = await json(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=asc&per_page=100&updated_after=${encodeURIComponent(bulk.updatedAt)}&updated_before=${encodeURIComponent(bulk.updatedAt)}`);
    t.equal(ties.length, 30, 'the bulk-edit block shares one timestamp');
    const opened = await json(sim, `/projects/${bulk.projectId}/merge_requests?state=opened&per_page=100`);
    t.same(ids(opened).sort(), ids(inProject.filter((m) => m.state === 'opened')).sort());
    t.equal((await get(sim, `/projects/${bulk.projectId}/merge_requests?updated_after=yesterday`)).status, 400);
  });
});

t.test('merge request timestamps are held in microseconds and shown in milliseconds, as GitLab does', async (t) => {
  await withSim({}, async (sim) => {
    const ds = sim.dataset;
    const bulk = ds.bulkEdit!;
    const micros = (m: object): number => Number(Reflect.get(m, '_u')) % 1000;
    const inProject = ds.mergeRequests.filter((m) => m.project_id === bulk.projectId);
    const pivot = inProject.find((m) => m.updated_at !== bulk.updatedAt && micros(m) > 0)!;
    t.match(pivot.updated_at, /\.\d{3}Z$/, 'shown with three digits');
    const q = (bound: string): Promise<Row[]> =>
      json(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=desc&per_page=100&updated_before=${encodeURIComponent(bound)}`);
    t.notOk((await q(pivot.updated_at)).some((m) => m.id === pivot.id), 'updated_before at the shown millisecond leaves the row out');
    t.ok((await q(pivot.updated_at.replace('Z', '999Z'))).some((m) => m.id === pivot.id), "to the millisecond's last microsecond keeps it");
    const later = `${new Date(Date.parse(pivot.updated_at)).toISOString().slice(0, -1)}${String(micros(pivot)).padStart(3, '0')}Z`;
    t.ok((await q(later)).some((m) => m.id === pivot.id), 'to its own microsecond keeps it');
    t.same(new Set(inProject.filter((m) => m.updated_at === bulk.updatedAt).map(micros)), new Set([0]), "a bulk edit's rows share the microsecond");
    const others = inProject.filter((m) => m.updated_at !== bulk.updatedAt);
    t.ok(new Set(others.map(micros)).size > others.length / 2, `other rows have their own digits (${others.length} rows)`);
    const set = sim.mutate((api) => api.updateMergeRequest(pivot.id, { updated_at: bulk.updatedAt }));
    t.equal(micros(set), 0, 'an updated_at a test sets is exact');
  });
});

t.test('projects updated_after is honoured only with order_by=updated_at', async (t) => {
  await withSim({}, async (sim) => {
    const visible = sim.dataset.projects.filter((p) => isVisible(p, false));
    const sorted = visible.slice().sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at));
    const pivot = sorted[Math.floor(sorted.length / 2)]!;
    const q = `updated_after=${encodeURIComponent(pivot.updated_at)}&per_page=100`;
    const ignored = await json(sim, `/projects?${q}`);
    t.equal(ignored.length, visible.length);
    const honoured = await json(sim, `/projects?${q}&order_by=updated_at&sort=asc`);
    t.same(ids(honoured), ids(sorted.filter((p) => Date.parse(p.updated_at) >= Date.parse(pivot.updated_at))));
  });
});

t.test('filters projects by search, visibility, archived and membership', async (t) => {
  await withSim({}, async (sim) => {
    const visible = sim.dataset.projects.filter((p) => isVisible(p, false));
    const expectIds = (f: (p: Row) => boolean): number[] => ids(visible.filter(f));
    const q = '&order_by=id&sort=asc&per_page=100';
    t.same(ids(await json(sim, `/projects?search=MERGEMIND${q}`)), expectIds((p) => `${p.path} ${p.name} ${p.description ?? ''}`.toLowerCase().includes('mergemind')));
    t.same(ids(await json(sim, `/projects?search=demo+app${q}`)), expectIds((p) => ['demo', 'app'].every((w) => `${p.path} ${p.name} ${p.description ?? ''}`.toLowerCase().includes(w))));
    t.same(ids(await json(sim, `/projects?visibility=private${q}`)), expectIds((p) => p.visibility === 'private'));
    t.same(ids(await json(sim, `/projects?archived=false${q}`)), expectIds((p) => !p.archived));
    t.same(ids(await json(sim, `/projects?archived=true${q}`)), expectIds((p) => p.archived));
    const members = await json(sim, `/projects?membership=true${q}`);
    t.same(ids(members), expectIds((p) => isMember(p as Parameters<typeof isMember>[0])));
    const simple = await json(sim, `/projects?simple=true${q}`);
    t.notOk('visibility' in simple[0]! || 'updated_at' in simple[0]! || 'archived' in simple[0]!, 'simple view omits them');
    const group = sim.dataset.groups[0]!;
    const inGroup = await json(sim, `/groups/${encodeURIComponent(group.full_path)}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc`);
    t.same(ids(inGroup), expectIds((p) => p.namespace.full_path === group.full_path || p.namespace.full_path.startsWith(`${group.full_path}/`)));
  });
});

t.test('hides private non-member projects, forbids disabled MR lists, and 301s a moved path', async (t) => {
  await withSim({ projects: 30 }, async (sim) => {
    const hidden = sim.dataset.projects.find((p) => !isVisible(p, false))!;
    const res = await get(sim, `/projects/${hidden.id}`);
    t.equal(res.status, 404);
    t.same(await res.json(), { message: '404 Project Not Found' });
    t.equal((await get(sim, `/projects/${hidden.id}/merge_requests`)).status, 404);
    const disabled = sim.dataset.projects.find((p) => p.merge_requests_enabled === false && isVisible(p, false))!;
    const forbidden = await get(sim, `/projects/${disabled.id}/merge_requests`);
    t.equal(forbidden.status, 403);
    t.same(await forbidden.json(), { message: '403 Forbidden' });
    const byPath = await get(sim, `/projects/${encodeURIComponent(sim.dataset.projects[0]!.path_with_namespace)}`);
    t.equal(((await byPath.json()) as Row).id, sim.dataset.projects[0]!.id);
    const moved = sim.dataset.redirects[0]!;
    const redirect = await get(sim, `/projects/${encodeURIComponent(moved.from)}`, { redirect: 'manual' });
    t.equal(redirect.status, 301);
    t.equal(redirect.headers.get('location'), `${sim.url}/api/v4/projects/${moved.projectId}`);
  });
});

t.test('GraphQL users(ids:) answers batches with pageInfo', async (t) => {
  await withSim({}, async (sim) => {
    const wanted = sim.dataset.users.slice(2, 5);
    const query = 'query($ids: [UserID!], $after: String) { users(ids: $ids, first: 2, after: $after) { nodes { id username name state publicEmail createdAt avatarUrl webUrl bot location jobTitle organization } pageInfo { hasNextPage endCursor } } }';
    const ask = async (after: string | null): Promise<Row> => {
      const res = await fetch(`${sim.url}/api/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sim.token}` },
        body: JSON.stringify({ query, variables: { ids: [...wanted.map((u) => `gid://gitlab/User/${u.id}`), 'gid://gitlab/User/999999'], after } }),
      });
      t.equal(res.status, 200);
      return ((await res.json()) as Row).data.users as Row;
    };
    const first = await ask(null);
    t.equal(first.nodes.length, 2);
    t.equal(first.pageInfo.hasNextPage, true);
    t.same(Object.keys(first.nodes[0]).sort(), ['avatarUrl', 'bot', 'createdAt', 'id', 'jobTitle', 'location', 'name', 'organization', 'publicEmail', 'state', 'username', 'webUrl']);
    const second = await ask(first.pageInfo.endCursor);
    t.equal(second.pageInfo.hasNextPage, false);
    t.same([...first.nodes, ...second.nodes].map((n: Row) => n.id), wanted.map((u) => `gid://gitlab/User/${u.id}`));
    t.equal(first.nodes[0].username, wanted[0]!.username);
    const inline = await fetch(`${sim.url}/api/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'PRIVATE-TOKEN': sim.token },
      body: JSON.stringify({ query: `{ users(ids: ["gid://gitlab/User/${wanted[0]!.id}"]) { nodes { id username } pageInfo { hasNextPage endCursor } } }` }),
    });
    t.same(((await inline.json()) as Row).data.users.nodes, [{ id: `gid://gitlab/User/${wanted[0]!.id}`, username: wanted[0]!.username }]);
  });
});

t.test('rate limit: RateLimit-* headers on every answer, then 429 with Retry-After', async (t) => {
  const fixed = Date.UTC(2026, 0, 1, 0, 0, 20);
  await withSim({ rateLimit: { limit: 3, windowMs: 60_000 }, now: () => fixed }, async (sim) => {
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(sim, '/version');
      t.equal(res.status, 200);
      remaining.push(res.headers.get('ratelimit-remaining'));
      t.equal(res.headers.get('ratelimit-name'), 'throttle_authenticated_api');
      t.equal(res.headers.get('ratelimit-reset'), String(Date.UTC(2026, 0, 1, 0, 1, 0) / 1000));
    }
    t.same(remaining, ['2', '1', '0']);
    const limited = await get(sim, '/version');
    t.equal(limited.status, 429);
    t.equal(limited.headers.get('retry-after'), '40');
    t.equal(limited.headers.get('ratelimit-resettime'), new Date(Date.UTC(2026, 0, 1, 0, 1, 0)).toUTCString());
    t.equal(await limited.text(), 'Retry later\n');
    t.equal(sim.stats().rateLimited, 1);
  });
});

t.test('application 429s come without Retry-After or RateLimit headers', async (t) => {
  await withSim({ faults: { app429Rate: 1 } }, async (sim) => {
    const res = await get(sim, '/projects');
    t.equal(res.status, 429);
    t.equal(res.headers.get('retry-after'), null);
    t.equal(res.headers.get('ratelimit-remaining'), null);
    t.same(await res.json(), { message: { error: 'This endpoint has been requested too many times. Try again later.' } });
    sim.setFaults({ rack429Rate: 1, retryAfterSeconds: 0 });
    const rack = await get(sim, '/projects');
    t.equal(rack.status, 429);
    t.equal(rack.headers.get('retry-after'), '0');
    t.ok(rack.headers.get('ratelimit-reset'));
    sim.setFaults(null);
    t.equal((await get(sim, '/projects')).status, 200);
  });
});

t.test('injects 5xx pages, connection resets and truncated bodies', async (t) => {
  await withSim({ faults: { errorRate: 1, htmlErrors: true, seed: 3 } }, async (sim) => {
    const kinds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await get(sim, '/projects');
      t.ok(res.status >= 500 && res.status <= 599);
      kinds.add(res.headers.get('content-type')!.startsWith('text/html') ? 'html' : 'json');
      await res.arrayBuffer();
    }
    t.same([...kinds].sort(), ['html', 'json']);
  });
  await withSim({ faults: { resetRate: 1 } }, async (sim) => {
    await t.rejects(get(sim, '/projects'));
    t.equal(sim.stats().statuses.reset, 1);
  });
  await withSim({ faults: { truncateRate: 1 } }, async (sim) => {
    await t.rejects(async () => (await get(sim, '/projects?per_page=100')).json());
  });
  await withSim({ faults: { errorRate: 1, routes: ['GET /users'] } }, async (sim) => {
    t.equal((await get(sim, '/projects')).status, 200, 'faults limited to the listed routes');
    t.ok((await get(sim, '/users')).status >= 500);
  });
});

t.test('counts requests by route and status, and resets the counters', async (t) => {
  await withSim({}, async (sim) => {
    const p = sim.dataset.projects[0]!;
    await get(sim, '/projects');
    await get(sim, '/projects?page=2');
    await get(sim, `/projects/${p.id}/merge_requests`);
    await fetch(`${sim.url}/api/v4/user`);
    const s = sim.stats();
    t.equal(s.requests, 4);
    t.same(s.byRoute, { 'GET /projects': 2, 'GET /projects/:id/merge_requests': 1, 'GET /user': 1 });
    t.same(s.statuses, { 200: 3, 401: 1 });
    const remote = (await (await fetch(`${sim.url}/__stats`)).json()) as Row;
    t.equal(remote.requests, 4, '/__stats needs no auth and is not counted');
    await fetch(`${sim.url}/__reset-stats`, { method: 'POST' });
    t.equal(sim.stats().requests, 0);
    await get(sim, '/version');
    sim.reset();
    t.same(sim.stats().byRoute, {});
  });
});

t.test('mutation mode updates and creates merge requests while a client pages', async (t) => {
  await withSim({ mutateDuringScan: { everyNRequests: 2, update: 3, create: 1 } }, async (sim) => {
    const bulk = sim.dataset.bulkEdit!;
    const before = new Map(sim.dataset.mergeRequests.map((m) => [m.id, m.updated_at]));
    const count = before.size;
    for (let page = 1; page <= 4; page++) await get(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=asc&per_page=5&page=${page}`);
    t.same(sim.stats().mutations, { updated: 6, created: 2, deleted: 0 });
    t.equal(sim.dataset.mergeRequests.length, count + 2);
    const changed = sim.dataset.mergeRequests.filter((m) => before.get(m.id) !== m.updated_at);
    t.ok(changed.length >= 7, 'updated and created MRs carry new timestamps');
    const maxOld = Math.max(...[...before.values()].map((v) => Date.parse(v)));
    for (const m of changed) t.ok(Date.parse(m.updated_at) > maxOld, 'the simulator clock moves forward');
    const log = sim.mutationLog();
    t.equal(log.length, 8);
    const since = await json(sim, `/projects/${bulk.projectId}/merge_requests?order_by=updated_at&sort=asc&per_page=100&updated_after=${encodeURIComponent(new Date(maxOld + 1).toISOString())}`);
    t.same(ids(since).sort(), [...new Set(log.filter((e) => e.project_id === bulk.projectId).map((e) => e.id))].sort(), 'the API serves the new state');
  });
});

t.test('mutate() edits the dataset and the indexes follow', async (t) => {
  await withSim({ mutateDuringScan: null }, async (sim) => {
    const p = sim.dataset.projects.find((x) => isMember(x) && x.merge_requests_enabled)!;
    const created = sim.mutate((api) => api.createMergeRequest(p.id, { title: 'hello ✨' }));
    const rows = await json(sim, `/projects/${p.id}/merge_requests?order_by=updated_at&sort=desc&per_page=1`);
    t.equal(rows[0]!.id, created.id);
    t.equal(rows[0]!.title, 'hello ✨');
    const oldPath = p.path_with_namespace;
    sim.mutate((api) => api.moveProject(p.id, 'renamed-project'));
    const moved = await get(sim, `/projects/${encodeURIComponent(`${p.namespace.full_path}/renamed-project`)}`);
    t.equal(((await moved.json()) as Row).id, p.id);
    const old = await get(sim, `/projects/${encodeURIComponent(oldPath)}`, { redirect: 'manual' });
    t.equal(old.status, 301);
    t.same(sim.dataset.redirects.at(-1), { from: oldPath, projectId: p.id });
    sim.mutate((api) => api.deleteMergeRequest(created.id));
    t.notOk((await json(sim, `/projects/${p.id}/merge_requests?per_page=100`)).some((m) => m.id === created.id), 'deleted MRs vanish');
  });
});

t.test('close() ends hung requests', async (t) => {
  const sim = await startSimulator({ ...small, faults: { hangRate: 1 } });
  const pending = get(sim, '/projects').then(
    () => 'answered',
    () => 'failed',
  );
  while (sim.stats().statuses.hang !== 1) await new Promise((r) => setImmediate(r));
  await sim.close();
  t.equal(await pending, 'failed');
});
