import t, { type Test } from 'tap';
import fetchMock from 'fetch-mock';
import type { CallLog } from 'fetch-mock';
import { GitLabClient, type Query } from '../lib/gitlab/client.js';
import { keysetPages, offsetPages, seekPages, type Page, type SeekPage } from '../lib/gitlab/pagination.js';
import { fakeClock } from '../lib/clock.js';
import { memoryLogger } from '../lib/log.js';
import { GitLabResponseError } from '../lib/errors.js';

const ORIGIN = 'https://gitlab.example.com';
const API = `${ORIGIN}/api/v4`;
const TOKEN = 'glpat-SeCrEt-t0ken-xyz';

function setup() {
  const fm = fetchMock.createInstance();
  const client = new GitLabClient({
    apiUrl: ORIGIN,
    token: TOKEN,
    tokenType: 'private',
    userAgent: 'tap-gitlab/test',
    timeoutMs: 30_000,
    maxRetries: 2,
    concurrency: 2,
    fetch: fm.fetchHandler,
    clock: fakeClock(),
    logger: memoryLogger(),
    random: () => 0.5,
  });
  return { fm, client };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function urls(fm: ReturnType<typeof fetchMock.createInstance>): string[] {
  const all = fm.callHistory.calls().map((c) => c.url);
  return all;
}

function assertNoToken(t: Test, fm: ReturnType<typeof fetchMock.createInstance>): void {
  for (const u of urls(fm)) t.notOk(u.includes(TOKEN), 'token not in URL');
}

function ids(pages: Array<Page | SeekPage<{ id: number }>>): number[] {
  return pages.flatMap((p) => (p.items as Array<{ id: number }>).map((i) => i.id));
}

function range(from: number, to: number): Array<{ id: number }> {
  const out: Array<{ id: number }> = [];
  for (let i = from; i <= to; i++) out.push({ id: i });
  return out;
}

t.test('offset paging stops on an empty X-Next-Page without totals', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/9/projects`, (call: CallLog) => {
    const page = Number(new URL(call.url).searchParams.get('page'));
    const next = page < 3 ? String(page + 1) : '';
    return { status: 200, body: range((page - 1) * 2 + 1, page * 2), headers: { 'x-page': String(page), 'x-per-page': '2', 'x-next-page': next } };
  });
  const pages = await collect(offsetPages(client, '/groups/9/projects', { per_page: 2, include_subgroups: true }));
  t.same(ids(pages), [1, 2, 3, 4, 5, 6]);
  t.same(urls(fm), [
    `${API}/groups/9/projects?per_page=2&include_subgroups=true&page=1`,
    `${API}/groups/9/projects?per_page=2&include_subgroups=true&page=2`,
    `${API}/groups/9/projects?per_page=2&include_subgroups=true&page=3`,
  ]);
  for (const p of pages) t.equal(p.response.headers.get('x-total'), null, 'no totals were needed');
  assertNoToken(t, fm);
});

t.test('offset paging reads lower-case headers and stops on a Link without rel="next"', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/9/projects`, (call: CallLog) => {
    const page = Number(new URL(call.url).searchParams.get('page'));
    const link = page < 2 ? `<${API}/groups/9/projects?page=${page + 1}>; rel="next", <${API}/groups/9/projects?page=1>; rel="first"` : `<${API}/groups/9/projects?page=1>; rel="first"`;
    return { status: 200, body: range(page * 10, page * 10 + 1), headers: { link } };
  });
  const pages = await collect(offsetPages(client, '/groups/9/projects', { per_page: 2 }));
  t.same(ids(pages), [10, 11, 20, 21]);
  t.equal(urls(fm).length, 2);
});

t.test('offset paging stops on a short page without asking for another', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/9/projects`, { status: 200, body: range(1, 3), headers: { 'x-next-page': '2' } });
  const pages = await collect(offsetPages(client, '/groups/9/projects', { per_page: 100 }));
  t.same(ids(pages), [1, 2, 3]);
  t.equal(urls(fm).length, 1);
});

t.test('offset paging trusts X-Per-Page when GitLab clamps per_page', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/9/projects`, (call: CallLog) => {
    const page = Number(new URL(call.url).searchParams.get('page'));
    return { status: 200, body: page === 1 ? range(1, 100) : range(101, 150), headers: { 'x-per-page': '100', 'x-next-page': page === 1 ? '2' : '' } };
  });
  const pages = await collect(offsetPages(client, '/groups/9/projects', { per_page: 500 }));
  t.equal(ids(pages).length, 150);
  t.equal(urls(fm).length, 2);
});

t.test('offset paging stops at an empty page', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/9/projects`, { status: 200, body: [], headers: { 'x-next-page': '2' } });
  const pages = await collect(offsetPages(client, '/groups/9/projects', {}));
  t.same(ids(pages), []);
  t.equal(urls(fm).length, 1);
});

const OFFSET_CAP = { error: 'Offset pagination has a maximum allowed offset of 4 for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.' };

/** A /projects endpoint with 7 projects, an offset cap at 4 rows, and keyset paging by id. */
function projectsWithOffsetCap(fm: ReturnType<typeof fetchMock.createInstance>, order: number[]): void {
  fm.route(`begin:${API}/projects`, (call: CallLog) => {
    const q = new URL(call.url).searchParams;
    const perPage = Number(q.get('per_page'));
    if (q.get('pagination') === 'keyset') {
      const after = Number(q.get('id_after') ?? 0);
      const rows = range(1, 7).filter((r) => r.id > after).slice(0, perPage);
      const last = rows[rows.length - 1];
      const more = last !== undefined && last.id < 7;
      const headers: Record<string, string> = more ? { link: `<${API}/projects?id_after=${last.id}&order_by=id&pagination=keyset&per_page=${perPage}&sort=asc>; rel="next"` } : {};
      return { status: 200, body: rows, headers };
    }
    const page = Number(q.get('page'));
    if (page * perPage > 4) return { status: 405, body: OFFSET_CAP };
    const rows = order.slice((page - 1) * perPage, page * perPage).map((id) => ({ id }));
    return { status: 200, body: rows, headers: { 'x-per-page': String(perPage), 'x-next-page': String(page + 1) } };
  });
}

t.test('a 405 offset cap switches to keyset from the last id and continues without duplicates', async (t) => {
  const { fm, client } = setup();
  projectsWithOffsetCap(fm, [1, 2, 3, 4, 5, 6, 7]);
  const pages = await collect(offsetPages(client, '/projects', { membership: true, order_by: 'id', sort: 'asc', per_page: 2 }));
  t.same(ids(pages), [1, 2, 3, 4, 5, 6, 7]);
  t.same(urls(fm), [
    `${API}/projects?membership=true&order_by=id&sort=asc&per_page=2&page=1`,
    `${API}/projects?membership=true&order_by=id&sort=asc&per_page=2&page=2`,
    `${API}/projects?membership=true&order_by=id&sort=asc&per_page=2&page=3`,
    `${API}/projects?membership=true&per_page=2&order_by=id&sort=asc&id_after=4&pagination=keyset`,
    `${API}/projects?id_after=6&order_by=id&pagination=keyset&per_page=2&sort=asc`,
  ]);
});

t.test('a 405 offset cap on another ordering restarts keyset from the start and drops what was emitted', async (t) => {
  const { fm, client } = setup();
  projectsWithOffsetCap(fm, [7, 5, 3, 1, 2, 4, 6]);
  const pages = await collect(offsetPages(client, '/projects', { membership: true, per_page: 2 }));
  t.same(ids(pages).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
  t.equal(urls(fm)[3], `${API}/projects?membership=true&per_page=2&order_by=id&sort=asc&pagination=keyset`);
});

t.test('a 405 on the first page is not mistaken for the cap: the error surfaces', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects`, { status: 405, body: OFFSET_CAP });
  await t.rejects(collect(offsetPages(client, '/projects', { per_page: 2 })), { name: 'GitLabHttpError', message: /GitLab answered 405/ });
  t.equal(urls(fm).length, 1);
});

t.test('keyset paging follows Link rel="next" verbatim, re-based onto the configured origin', async (t) => {
  const { fm, client } = setup();
  // GitLab builds Link URLs from its own configured host, here an internal name.
  fm.route(`begin:${API}/users`, (call: CallLog) => {
    const after = Number(new URL(call.url).searchParams.get('id_after') ?? 0);
    const rows = range(after + 1, Math.min(after + 2, 5));
    const last = rows[rows.length - 1]?.id ?? 5;
    return { status: 200, body: rows, headers: last < 5 ? { link: `<http://gitlab.internal:8080/api/v4/users?id_after=${last}&order_by=id&pagination=keyset&per_page=2&sort=asc&active=true>; rel="next"` } : {} };
  });
  const pages = await collect(keysetPages(client, '/users', { order_by: 'id', sort: 'asc', per_page: 2, active: true }));
  t.same(ids(pages), [1, 2, 3, 4, 5]);
  t.same(urls(fm), [
    `${API}/users?order_by=id&sort=asc&per_page=2&active=true&pagination=keyset`,
    `${API}/users?id_after=2&order_by=id&pagination=keyset&per_page=2&sort=asc&active=true`,
    `${API}/users?id_after=4&order_by=id&pagination=keyset&per_page=2&sort=asc&active=true`,
  ]);
  for (const c of fm.callHistory.calls()) t.equal(new URL(c.url).origin, ORIGIN, 'never leaves the configured origin');
  assertNoToken(t, fm);
});

t.test('keyset paging ends on an empty last page without a next link', async (t) => {
  const { fm, client } = setup();
  let n = 0;
  fm.route(`begin:${API}/projects`, () => {
    n += 1;
    return n === 1 ? { status: 200, body: range(1, 2), headers: { link: `<${API}/projects?id_after=2&pagination=keyset>; rel="next"` } } : { status: 200, body: [] };
  });
  const pages = await collect(keysetPages(client, '/projects', { order_by: 'id', sort: 'asc' }));
  t.same(ids(pages), [1, 2]);
  t.equal(pages.length, 2);
});

t.test('keyset paging falls back to offset paging where GitLab does not offer keyset', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/groups/3/projects`, (call: CallLog) => {
    const q = new URL(call.url).searchParams;
    if (q.get('pagination') === 'keyset') return { status: 405, body: { message: '405 Method Not Allowed - Keyset pagination is not yet available for this type of request' } };
    const page = Number(q.get('page'));
    return { status: 200, body: range(page, page), headers: { 'x-next-page': page < 2 ? '2' : '' } };
  });
  const pages = await collect(keysetPages(client, '/groups/3/projects', { order_by: 'id', sort: 'asc', per_page: 1 }));
  t.same(ids(pages), [1, 2]);
  t.same(urls(fm), [
    `${API}/groups/3/projects?order_by=id&sort=asc&per_page=1&pagination=keyset`,
    `${API}/groups/3/projects?order_by=id&sort=asc&per_page=1&page=1`,
    `${API}/groups/3/projects?order_by=id&sort=asc&per_page=1&page=2`,
  ]);
});

t.test('keyset paging refuses to loop on a repeated next link', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects`, { status: 200, body: range(1, 2), headers: { link: `<${API}/projects?id_after=2&pagination=keyset>; rel="next"` } });
  await t.rejects(collect(keysetPages(client, '/projects', { order_by: 'id', sort: 'asc' })), GitLabResponseError);
  t.equal(urls(fm).length, 2);
});

t.test('a server that never stops announcing pages hits the page guard with a clear error', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects`, (call: CallLog) => {
    const page = Number(new URL(call.url).searchParams.get('page'));
    return { status: 200, body: range(1, 2), headers: { 'x-next-page': String(page + 1) } };
  });
  await t.rejects(collect(offsetPages(client, '/projects', { per_page: 2 }, { maxPages: 5 })), { name: 'GitLabResponseError', message: /after 5 pages/ });
  t.equal(urls(fm).length, 5);
});

t.test('a page that is not a JSON array raises GitLabResponseError', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects`, { status: 200, body: { message: 'not a list' } });
  await t.rejects(collect(offsetPages(client, '/projects', {})), { name: 'GitLabResponseError', message: /JSON array/ });
});

// ---------- timestamp seek ----------

interface Mr {
  id: number;
  updated_at: string;
}

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const ts = (s: number): string => new Date(T0 + s * 1000).toISOString();
/** The last microsecond of ts(s)'s millisecond: how a tie's re-read bounds `updated_before`. */
const through = (s: number): string => `${ts(s).slice(0, -1)}999Z`;

/** A merge request list that sorts by updated_at asc (then id), honours inclusive updated_after/updated_before, page and per_page. */
function mrServer(fm: ReturnType<typeof fetchMock.createInstance>, rows: Mr[], beforeRequest: (n: number) => void = () => {}): void {
  let n = 0;
  fm.route(`begin:${API}/projects/1/merge_requests`, (call: CallLog) => {
    n += 1;
    beforeRequest(n);
    const q = new URL(call.url).searchParams;
    const after = q.get('updated_after');
    const before = q.get('updated_before');
    const perPage = Math.min(100, Number(q.get('per_page') ?? 20));
    const page = Number(q.get('page') ?? 1);
    const list = rows
      .filter((r) => (after === null || Date.parse(r.updated_at) >= Date.parse(after)) && (before === null || Date.parse(r.updated_at) <= Date.parse(before)))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id);
    const slice = list.slice((page - 1) * perPage, page * perPage).map((r) => ({ ...r }));
    const hasNext = page * perPage < list.length;
    return { status: 200, body: slice, headers: { 'x-per-page': String(perPage), 'x-page': String(page), 'x-next-page': hasNext ? String(page + 1) : '', 'x-total': String(list.length) } };
  });
}

/**
 * Seeks through `rows` while they change: each edit [request n, row index, updated_at] is made just
 * before the n-th request is answered. Returns the calls, the pages and the ids read in order.
 */
async function scanWhileEditing(rows: Mr[], edits: Array<[number, number, string]>, opts: { query: Query; updatedAfter: string | null; pageSize: number; until?: () => string | null }) {
  const { fm, client } = setup();
  mrServer(fm, rows, (n) => {
    for (const [at, row, to] of edits) if (n === at) (rows[row] as Mr).updated_at = to;
  });
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', opts));
  return { fm, pages, got: ids(pages) };
}

/**
 * The requests of a scan from the start through a tie at ts(0): the first page, `steps` pages at
 * the tie, one re-read of `reread` pages, then the request just after the tie.
 */
function steppedTie(steps: number, reread: number): string[] {
  return [
    'page=1 after=-',
    ...range(1, steps).map((r) => `page=${r.id} after=${ts(0)}`),
    ...range(1, reread).map((r) => `page=${r.id} after=${ts(0)} before=${through(0)}`),
    `page=1 after=${ts(0.001)}`,
  ];
}

/** Rows 1..tie at ts(0) (a bulk edit), then tie+1..last at ts(id). */
function tieThenLater(tie: number, last: number): Mr[] {
  const rows: Mr[] = [];
  for (let i = 1; i <= tie; i++) rows.push({ id: i, updated_at: ts(0) });
  for (let i = tie + 1; i <= last; i++) rows.push({ id: i, updated_at: ts(i) });
  return rows;
}

function seekQueries(fm: ReturnType<typeof fetchMock.createInstance>): string[] {
  return urls(fm).map((u) => {
    const q = new URL(u).searchParams;
    return [`page=${q.get('page')}`, `after=${q.get('updated_after') ?? '-'}`, q.get('updated_before') ? `before=${q.get('updated_before')}` : ''].filter(Boolean).join(' ');
  });
}

t.test('seek paging moves updated_after to the last timestamp and drops ids already emitted there', async (t) => {
  const { fm, client } = setup();
  const rows: Mr[] = [1, 2, 3, 4, 5].map((i) => ({ id: i, updated_at: ts(i) }));
  mrServer(fm, rows);
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: { state: 'all' }, updatedAfter: null, pageSize: 2 }));
  t.same(ids(pages), [1, 2, 3, 4, 5]);
  t.same(
    pages.map((p) => p.cursor),
    [ts(2), ts(3), ts(4), ts(5)],
  );
  t.same(urls(fm)[0], `${API}/projects/1/merge_requests?state=all&order_by=updated_at&sort=asc&per_page=2&page=1`);
  // The boundary row comes back each time (updated_after is inclusive); an empty X-Next-Page ends the scan
  // without one more request.
  t.same(seekQueries(fm), ['page=1 after=-', `page=1 after=${ts(2)}`, `page=1 after=${ts(3)}`, `page=1 after=${ts(4)}`]);
  assertNoToken(t, fm);
});

t.test('seek paging starts from the bookmark, sent as an ISO timestamp', async (t) => {
  const { fm, client } = setup();
  mrServer(fm, [1, 2, 3].map((i) => ({ id: i, updated_at: ts(i) })));
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: '2024-05-01T12:00:02+02:00', pageSize: 100 }));
  t.same(ids(pages), [2, 3]);
  t.same(seekQueries(fm), [`page=1 after=${ts(2)}`]);
});

t.test('seek paging does not lose a row that moves to the end mid-scan, where page=N offset paging does', async (t) => {
  const initial = (): Mr[] => [1, 2, 3, 4, 5, 6].map((i) => ({ id: i, updated_at: ts(i) }));
  // After the first page is served, MR 1 is edited and jumps to the end of the ordering.
  const touch = (rows: Mr[]) => (n: number) => {
    if (n === 2) (rows[0] as Mr).updated_at = ts(100);
  };

  // Naive offset paging over the same changing data.
  const naive = setup();
  const naiveRows = initial();
  mrServer(naive.fm, naiveRows, touch(naiveRows));
  const naivePages = await collect(offsetPages(naive.client, '/projects/1/merge_requests', { order_by: 'updated_at', sort: 'asc', per_page: 2 }));
  const naiveIds = new Set(ids(naivePages));
  t.notOk(naiveIds.has(3), 'offset paging skips MR 3 for good (the hazard this iterator exists for)');

  const seek = setup();
  const seekRows = initial();
  mrServer(seek.fm, seekRows, touch(seekRows));
  const pages = await collect(seekPages<Mr>(seek.client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2 }));
  const got = ids(pages);
  t.same([...new Set(got)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6], 'every MR is read');
  t.same(
    got.filter((id) => id !== 1),
    [2, 3, 4, 5, 6],
    'MRs that did not change are read exactly once',
  );
  t.same(pages[pages.length - 1]?.cursor, ts(100));
});

t.test('150 rows sharing one updated_at are read completely, each exactly once', async (t) => {
  const { fm, client } = setup();
  const rows: Mr[] = [];
  for (let i = 1; i <= 150; i++) rows.push({ id: i, updated_at: ts(0) });
  mrServer(fm, rows);
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 100 }));
  const got = ids(pages);
  t.equal(got.length, 150);
  t.same(got, range(1, 150).map((r) => r.id));
  // The tie ends on a short page: it is re-read (to its last microsecond), and the scan looks once just after it.
  t.same(seekQueries(fm), steppedTie(2, 2));
  for (const p of pages) t.equal(p.cursor, ts(0));
});

t.test('a tie of 150 rows followed by later rows steps through the tie, re-checks it, then seeks on', async (t) => {
  const { fm, client } = setup();
  const rows = tieThenLater(150, 270);
  mrServer(fm, rows);
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 100 }));
  const got = ids(pages);
  t.same(got, range(1, 270).map((r) => r.id), 'all 270 rows, each once, in order');
  // Just after the tie, not from the rows that followed it on its last page (a shift may have moved one back).
  t.same(seekQueries(fm), [...steppedTie(2, 2), `page=1 after=${ts(250)}`]);
  t.same(pages[pages.length - 1]?.cursor, ts(270));
});

t.test('a tie row edited while the tie is stepped does not make its neighbour disappear', async (t) => {
  // Just before page 2 of the tie is read, MR 5 is edited: every later tie row slides back one slot.
  const { pages, got } = await scanWhileEditing(tieThenLater(150, 160), [[3, 4, ts(500)]], { query: {}, updatedAfter: null, pageSize: 100 });
  t.same([...new Set(got)].sort((a, b) => a - b), range(1, 160).map((r) => r.id), 'MR 101 is not lost');
  t.equal(got.filter((id) => id === 101).length, 1);
  t.equal(got.length, 161, 'only the edited MR 5 is read twice');
  t.same(pages[pages.length - 1]?.cursor, ts(500));
});

t.test('the first row after a page-aligned tie is not lost when a tie row is edited while the tie is stepped', async (t) => {
  // Just before page 2 of the tie, MR 1 is edited: MR 11, the first row after the tie, slides onto page 1.
  const { fm, pages, got } = await scanWhileEditing(tieThenLater(10, 15), [[3, 0, ts(500)]], { query: {}, updatedAfter: null, pageSize: 10 });
  t.same([...new Set(got)].sort((a, b) => a - b), range(1, 15).map((r) => r.id), 'MR 11 is read');
  t.equal(got.length, 16, 'only the edited MR 1 is read twice');
  t.same(seekQueries(fm), steppedTie(2, 1));
  t.same(pages[pages.length - 1]?.cursor, ts(500));
});

t.test('a stepped tie that ends on a short page of the tie is re-read: a row that slid back is not lost', async (t) => {
  // A range bounded at ts(20): MR 1 is edited past the bound just before page 2, so every tie row slides
  // back one slot, MR 11 onto page 1, and page 2 holds only tie rows and the rows up to the bound.
  const { fm, pages, got } = await scanWhileEditing(tieThenLater(15, 18), [[2, 0, ts(500)]], { query: {}, updatedAfter: ts(0), pageSize: 10, until: () => ts(20) });
  t.same([...new Set(got)].sort((a, b) => a - b), range(1, 18).map((r) => r.id), 'MR 11 is read');
  t.equal(got.length, 18, 'each once');
  t.same(seekQueries(fm), [
    `page=1 after=${ts(0)} before=${ts(20)}`,
    `page=2 after=${ts(0)} before=${ts(20)}`,
    `page=1 after=${ts(0)} before=${through(0)}`,
    `page=2 after=${ts(0)} before=${through(0)}`,
    `page=1 after=${ts(0)} before=${through(0)}`,
    `page=2 after=${ts(0)} before=${through(0)}`,
    `page=1 after=${ts(0.001)} before=${ts(20)}`,
  ]);
});

t.test('a stepped tie that ends on an empty page is re-read too', async (t) => {
  const { fm, client } = setup();
  const rows: Mr[] = [];
  for (let i = 1; i <= 20; i++) rows.push({ id: i, updated_at: ts(0) });
  // The server answers without X-Next-Page, so the end of the tie is found by an empty page 3.
  fm.route(`begin:${API}/projects/1/merge_requests`, (call: CallLog) => {
    const q = new URL(call.url).searchParams;
    const page = Number(q.get('page') ?? 1);
    if (q.get('updated_after') === ts(0.001)) return { status: 200, body: [] };
    return { status: 200, body: rows.slice((page - 1) * 10, page * 10) };
  });
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: ts(0), pageSize: 10 }));
  t.same(ids(pages), range(1, 20).map((r) => r.id));
  t.same(seekQueries(fm), [
    `page=1 after=${ts(0)}`,
    `page=2 after=${ts(0)}`,
    `page=3 after=${ts(0)}`,
    // Without X-Total, a pass is whole when it finds nothing new and reads as many rows as the pass before.
    `page=1 after=${ts(0)} before=${through(0)}`,
    `page=2 after=${ts(0)} before=${through(0)}`,
    `page=3 after=${ts(0)} before=${through(0)}`,
    `page=1 after=${ts(0)} before=${through(0)}`,
    `page=2 after=${ts(0)} before=${through(0)}`,
    `page=3 after=${ts(0)} before=${through(0)}`,
    `page=1 after=${ts(0.001)}`,
  ]);
});

t.test('a re-read pass that finds nothing new is not trusted while a tie row leaves during it', async (t) => {
  const { fm, client } = setup();
  const rows: Mr[] = [];
  for (let i = 1; i <= 6; i++) rows.push({ id: i, updated_at: ts(0) });
  rows.push({ id: 7, updated_at: ts(10) });
  // Three tie rows are edited while the scan is in and around the tie: MR 5 slides onto page 2 while the tie
  // is stepped, then onto page 1 during the first re-read, which finds nothing new but reads one row short.
  mrServer(fm, rows, (n) => {
    if (n === 4) (rows[0] as Mr).updated_at = ts(500);
    if (n === 5) (rows[1] as Mr).updated_at = ts(501);
    if (n === 6) (rows[2] as Mr).updated_at = ts(502);
  });
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2 }));
  const got = new Set(ids(pages));
  t.same([1, 2, 3, 4, 5, 6, 7].filter((id) => !got.has(id)), [], 'MR 5 is read');
});

t.test('a tie is re-read to its last microsecond: GitLab stores microseconds and shows milliseconds', async (t) => {
  const { fm, client } = setup();
  // GitLab's view: each row's true updated_at in µs; its JSON shows milliseconds, truncated.
  const T0us = T0 * 1000 + 402_123;
  const rows = range(1, 150).map((r) => ({ id: r.id, us: T0us }));
  for (let i = 151; i <= 160; i++) rows.push({ id: i, us: T0us + i * 1_000_000 });
  const show = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();
  const parseUs = (iso: string): number => Math.floor(Date.parse(iso) / 1000) * 1_000_000 + Number((/\.(\d+)Z$/.exec(iso)?.[1] ?? '').padEnd(6, '0').slice(0, 6));
  let n = 0;
  fm.route(`begin:${API}/projects/1/merge_requests`, (call: CallLog) => {
    n += 1;
    // Just before page 2 of the tie, MR 5 is edited: MR 101 slides onto page 1.
    if (n === 3) (rows[4] as { us: number }).us = T0us + 500_000_000;
    const q = new URL(call.url).searchParams;
    const after = q.get('updated_after');
    const before = q.get('updated_before');
    const per = Number(q.get('per_page'));
    const page = Number(q.get('page') ?? 1);
    const list = rows.filter((r) => (after === null || r.us >= parseUs(after)) && (before === null || r.us <= parseUs(before))).sort((a, b) => a.us - b.us || a.id - b.id);
    const body = list.slice((page - 1) * per, page * per).map((r) => ({ id: r.id, updated_at: show(r.us) }));
    return { status: 200, body, headers: { 'x-per-page': String(per), 'x-next-page': page * per < list.length ? String(page + 1) : '' } };
  });
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 100 }));
  const got = new Set(ids(pages));
  t.same(range(1, 160).map((r) => r.id).filter((id) => !got.has(id)), [], 'MR 101 is read by the re-read of the tie');
});

t.test('seek paging stops at the page guard when a server ignores its filters', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects/1/merge_requests`, { status: 200, body: [1, 2].map((i) => ({ id: i, updated_at: ts(0) })) });
  await t.rejects(collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, maxPages: 10 })), { name: 'GitLabResponseError', message: /after 10 pages/ });
  t.equal(urls(fm).length, 10);
});

t.test('seek paging rejects items without id or updated_at', async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects/1/merge_requests`, { status: 200, body: [{ id: 1, updated_at: 'yesterday' }] });
  await t.rejects(collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2 })), GitLabResponseError);
});

t.test('seek paging within an upper bound sends updated_before and ends where the bound is', async (t) => {
  const { fm, client } = setup();
  mrServer(fm, [1, 2, 3, 4, 5, 6].map((i) => ({ id: i, updated_at: ts(i) })));
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, until: () => ts(4) }));
  t.same(ids(pages), [1, 2, 3, 4]);
  t.same(seekQueries(fm), [`page=1 after=- before=${ts(4)}`, `page=1 after=${ts(2)} before=${ts(4)}`, `page=1 after=${ts(3)} before=${ts(4)}`]);
  t.equal(pages[pages.length - 1]?.final, true);
});

t.test('a bound lowered while a page is in flight drops the rows past it and ends the scan there', async (t) => {
  const { fm, client } = setup();
  let until: string | null = null;
  // The second page is asked without a bound; the bound drops to ts(4) before its answer is read.
  mrServer(fm, [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ id: i, updated_at: ts(i) })), (n) => {
    if (n === 2) until = ts(4);
  });
  const pages = await collect(seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 4, until: () => until }));
  t.same(ids(pages), [1, 2, 3, 4], 'rows 5-8 are left to the range after the bound');
  t.same(seekQueries(fm), ['page=1 after=-', `page=1 after=${ts(4)}`], 'no request past the bound');
  t.same(pages.map((p) => [p.cursor, p.final]), [[ts(4), false]], 'the cursor never passes the bound');
});

t.test('with prefetch the next page is asked before the caller works on this one; the same requests, the same rows', async (t) => {
  const plain = setup();
  const ahead = setup();
  for (const s of [plain, ahead]) mrServer(s.fm, [1, 2, 3, 4, 5].map((i) => ({ id: i, updated_at: ts(i) })));
  const seen = async (s: ReturnType<typeof setup>, prefetch: boolean) => {
    const asked: number[] = [];
    const got: number[] = [];
    for await (const p of seekPages<Mr>(s.client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, prefetch: () => prefetch })) {
      asked.push(urls(s.fm).length);
      got.push(...p.items.map((i) => i.id));
    }
    return { asked, got };
  };
  const without = await seen(plain, false);
  const withIt = await seen(ahead, true);
  t.same(without.asked, [1, 2, 3, 4], 'without prefetch: one request per page taken');
  t.same(withIt.asked, [2, 3, 4, 4], 'with prefetch: the next request is out when a page is handed on (none after the last)');
  t.same(withIt.got, without.got);
  t.same(withIt.got, [1, 2, 3, 4, 5]);
  t.same(seekQueries(ahead.fm), seekQueries(plain.fm));
});

t.test('prefetch is asked page by page: false sends nothing ahead', async (t) => {
  const { fm, client } = setup();
  mrServer(fm, [1, 2, 3, 4, 5].map((i) => ({ id: i, updated_at: ts(i) })));
  let pages = 0;
  const asked: number[] = [];
  for await (const _ of seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, prefetch: () => pages === 0 })) {
    pages += 1;
    asked.push(urls(fm).length);
  }
  t.same(asked, [2, 2, 3, 4], 'ahead only after the first page');
});

/** A project whose first page of two rows is served, then 404s (deleted mid-scan); `requests()` counts the asks. */
function vanishingProject() {
  const { fm, client } = setup();
  let n = 0;
  fm.route(`begin:${API}/projects/1/merge_requests`, () => {
    n += 1;
    if (n === 1) return { status: 200, body: [1, 2].map((i) => ({ id: i, updated_at: ts(i) })), headers: { 'x-per-page': '2', 'x-next-page': '2' } };
    return { status: 404, body: { message: '404 Project Not Found' } };
  });
  return { client, requests: () => n };
}

t.test('a caller that stops early leaves one request ahead, and its failure is neither thrown nor unhandled', async (t) => {
  const { client, requests } = vanishingProject();
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    for await (const p of seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, prefetch: () => true })) {
      t.same(p.items.map((i) => i.id), [1, 2]);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  t.equal(requests(), 2, 'the second page was asked ahead');
  t.same(unhandled, []);
});

t.test('a prefetched page that fails fails the scan after the page before it was handed on', async (t) => {
  const { client } = vanishingProject();
  const got: number[] = [];
  await t.rejects(
    (async () => {
      for await (const p of seekPages<Mr>(client, '/projects/1/merge_requests', { query: {}, updatedAfter: null, pageSize: 2, prefetch: () => true })) got.push(...p.items.map((i) => i.id));
    })(),
    { name: 'GitLabHttpError', status: 404 },
  );
  t.same(got, [1, 2]);
});
