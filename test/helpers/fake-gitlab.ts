/**
 * A tiny in-memory GitLab behind fetch-mock, for module tests of discovery and sync.
 * Serves only what the tap asks: /projects (keyset by id, updated_after with order_by=updated_at),
 * /projects/:id, /projects/:id/merge_requests (updated_after and updated_before inclusive, order_by=updated_at asc,
 * offset pages), GET /users/:id and POST /api/graphql users(ids:). Every request is recorded as
 * "GET /api/v4/path?query" so tests can assert the exact sequence.
 */
import fetchMock from 'fetch-mock';

export const BASE = 'https://gitlab.example.com';
export const TOKEN = 'glpat-TEST-SECRET-123';

export interface FakeUser { id: number; username: string; name: string; state: string; avatar_url: string | null; web_url: string; locked: boolean }
export interface FakeProject { id: number; path: string; name: string; path_with_namespace: string; visibility: string; archived: boolean; updated_at: string; created_at: string; last_activity_at: string; description: string | null; web_url: string; default_branch: string | null; namespace: { id: number; name: string; path: string; kind: string; full_path: string; parent_id: number | null; web_url: string }; member?: boolean; mrStatus?: number; mrBody?: unknown }
export interface FakeMr { id: number; iid: number; project_id: number; title: string; description: string | null; state: string; created_at: string; updated_at: string; merged_at: string | null; closed_at: string | null; author: FakeUser; assignees: FakeUser[]; reviewers: FakeUser[]; source_branch: string; target_branch: string; web_url: string; [k: string]: unknown }

export function user(id: number): FakeUser {
  return { id, username: `user${id}`, name: `User ${id}`, state: 'active', avatar_url: null, web_url: `${BASE}/user${id}`, locked: false };
}

export function project(id: number, path: string, over: Partial<FakeProject> = {}): FakeProject {
  return {
    id,
    path,
    name: path,
    path_with_namespace: `acme/${path}`,
    visibility: 'internal',
    archived: false,
    created_at: '2023-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    last_activity_at: '2024-01-01T00:00:00.000Z',
    description: null,
    web_url: `${BASE}/acme/${path}`,
    default_branch: 'main',
    namespace: { id: 9, name: 'acme', path: 'acme', kind: 'group', full_path: 'acme', parent_id: null, web_url: `${BASE}/acme` },
    ...over,
  };
}

export function mr(id: number, projectId: number, updatedAt: string, authorId = 1, over: Partial<FakeMr> = {}): FakeMr {
  return {
    id,
    iid: id,
    project_id: projectId,
    title: `MR ${id}`,
    description: null,
    state: 'opened',
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: updatedAt,
    merged_at: null,
    closed_at: null,
    author: user(authorId),
    assignees: [],
    reviewers: [],
    source_branch: `feature-${id}`,
    target_branch: 'main',
    web_url: `${BASE}/acme/p/-/merge_requests/${id}`,
    ...over,
  };
}

export interface FakeGitLab {
  fetch: typeof fetch;
  calls: string[];
  projects: FakeProject[];
  mrs: FakeMr[];
  users: FakeUser[];
  /** Called before each MR list request is answered, e.g. to mutate data mid-scan. */
  onMrRequest?: (n: number) => void;
  /** Answer the nth request (1-based, over all requests) with this status instead. */
  failAt?: Map<number, number>;
  /** GraphQL answers wait for this promise (to hold a user lookup while other requests go on). */
  graphqlGate?: Promise<void>;
  /** The Date header of every answer (GitLab's clock); null leaves it out. */
  serverDate: string | null;
}

/** GitLab's clock in every answer's Date header (the run-sync helper's clock stands here too). */
export const SERVER_DATE = 'Sat, 01 Jun 2024 00:00:00 GMT';

const answer = (date: string | null, body: unknown, headers: Record<string, string> = {}, status = 200) => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...(date === null ? {} : { date }), ...headers },
});

export function fakeGitLab(init: { projects: FakeProject[]; mrs: FakeMr[]; users?: FakeUser[] }): FakeGitLab {
  const fm = fetchMock.createInstance();
  const state: FakeGitLab = { fetch: fm.fetchHandler as unknown as typeof fetch, calls: [], projects: init.projects, mrs: init.mrs, users: init.users ?? [], serverDate: SERVER_DATE };
  const json = (body: unknown, headers: Record<string, string> = {}, status = 200) => answer(state.serverDate, body, headers, status);
  let mrRequests = 0;
  fm.catch(async (callLog) => {
    const url = new URL(callLog.url);
    const method = (callLog.options.method ?? 'GET').toUpperCase();
    state.calls.push(`${method} ${url.pathname}${url.search}`);
    const failure = state.failAt?.get(state.calls.length);
    if (failure !== undefined) return json({ message: `${failure} Simulated` }, {}, failure);
    const headers = new Headers(callLog.options.headers as HeadersInit | undefined);
    if (headers.get('private-token') !== TOKEN) return json({ message: '401 Unauthorized' }, {}, 401);
    const q = url.searchParams;
    const path = url.pathname.replace(/^\/api\/v4/, '');
    if (method === 'POST' && url.pathname === '/api/graphql') {
      if (state.graphqlGate) await state.graphqlGate;
      const body = JSON.parse(String(callLog.options.body)) as { variables: { ids: string[] } };
      const ids = body.variables.ids.map((g) => Number(g.split('/').pop()));
      const nodes = state.users.filter((u) => ids.includes(u.id)).map((u) => ({ id: `gid://gitlab/User/${u.id}`, username: u.username, name: u.name, state: 'active', publicEmail: `${u.username}@example.com`, createdAt: '2020-01-01T00:00:00Z', avatarUrl: null, webUrl: u.web_url, bot: false, location: null, jobTitle: null, organization: null }));
      return json({ data: { users: { nodes, pageInfo: { hasNextPage: false, endCursor: null } } } });
    }
    const userById = /^\/users\/(\d+)$/.exec(path);
    if (userById) {
      const u = state.users.find((x) => x.id === Number(userById[1]));
      return u ? json({ ...u, created_at: '2020-01-01T00:00:00Z', bot: false, public_email: `${u.username}@example.com` }) : json({ message: '404 User Not Found' }, {}, 404);
    }
    if (path === '/projects') {
      let list = state.projects.filter((p) => p.member !== false);
      if (q.get('archived') === 'false') list = list.filter((p) => !p.archived);
      const search = q.get('search');
      if (search) list = list.filter((p) => p.path.toLowerCase().includes(search.toLowerCase()) || p.name.toLowerCase().includes(search.toLowerCase()));
      if (q.get('order_by') === 'updated_at') {
        const after = q.get('updated_after');
        if (after) list = list.filter((p) => Date.parse(p.updated_at) >= Date.parse(after));
        list = [...list].sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at));
        return json(list, { 'x-next-page': '' });
      }
      list = [...list].sort((a, b) => a.id - b.id);
      const idAfter = Number(q.get('id_after') ?? 0);
      const per = Number(q.get('per_page') ?? 20);
      const page = list.filter((p) => p.id > idAfter).slice(0, per);
      const more = list.filter((p) => p.id > idAfter).length > per;
      const last = page[page.length - 1];
      const linkHeaders: Record<string, string> = {};
      if (more && last) {
        const next = new URL(url);
        next.searchParams.set('id_after', String(last.id));
        linkHeaders.link = `<${next.toString()}>; rel="next"`;
      }
      return json(page, linkHeaders);
    }
    const one = /^\/projects\/([^/]+)$/.exec(path);
    if (one) {
      const key = decodeURIComponent(one[1] ?? '');
      const p = state.projects.find((x) => String(x.id) === key || x.path_with_namespace === key);
      return p ? json(p) : json({ message: '404 Project Not Found' }, {}, 404);
    }
    const mrm = /^\/projects\/(\d+)\/merge_requests$/.exec(path);
    if (mrm) {
      state.onMrRequest?.(++mrRequests);
      const pid = Number(mrm[1]);
      const p = state.projects.find((x) => x.id === pid);
      if (!p) return json({ message: '404 Project Not Found' }, {}, 404);
      if (p.mrStatus) return json(p.mrBody ?? { message: `${p.mrStatus} Forbidden` }, {}, p.mrStatus);
      let list = state.mrs.filter((m) => m.project_id === pid);
      const after = q.get('updated_after');
      if (after) list = list.filter((m) => Date.parse(m.updated_at) >= Date.parse(after));
      const before = q.get('updated_before');
      if (before) list = list.filter((m) => Date.parse(m.updated_at) <= Date.parse(before));
      list = [...list].sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id);
      const per = Number(q.get('per_page') ?? 20);
      const page = Number(q.get('page') ?? 1);
      const items = list.slice((page - 1) * per, page * per);
      const hasNext = list.length > page * per;
      return json(items, { 'x-page': String(page), 'x-per-page': String(per), 'x-next-page': hasNext ? String(page + 1) : '', 'x-total': String(list.length) });
    }
    return json({ message: '404 Not Found' }, {}, 404);
  });
  return state;
}
