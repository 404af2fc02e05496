/**
 * Page iterators: the only place pages are followed.
 * - offsetPages: `page=N`, stops on an empty/absent `X-Next-Page` (or no Link rel="next"), an empty or
 *   short page; never reads X-Total*. A 405 "offset pagination has a maximum allowed offset" switches to
 *   keyset (`order_by=id&sort=asc&id_after=<last id>`) and continues without duplicates.
 * - keysetPages: `pagination=keyset`, follows Link rel="next" verbatim (re-based onto the API origin);
 *   where GitLab answers that keyset is not available for the request, falls back to offset paging.
 * - seekPages: the timestamp seek for lists sorted by `updated_at` asc (see DESIGN.md): always page 1 with
 *   `updated_after=<cursor>`; cursor = max(updated_at) of the page; ids already emitted at the cursor are
 *   dropped; a page entirely at the cursor timestamp steps `page=2,3,…` until the tie ends, then re-reads
 *   the tie and goes on just after it.
 * Every iterator stops with a GitLabResponseError after `maxPages` pages.
 */
import { GitLabHttpError, GitLabResponseError } from '../errors.js';
import type { GitLabClient, GitLabResponse, Query } from './client.js';
import { isOffsetCapMessage } from './http-error.js';
import { nextLink } from './link-header.js';

export interface Page<T = unknown> {
  items: T[];
  response: GitLabResponse;
}

export interface SeekItem {
  id: number;
  updated_at: string;
}

export interface SeekPage<T> {
  /** New items only: ids already emitted at the cursor timestamp are dropped. */
  items: T[];
  /** Every row with updated_at < cursor has been yielded; rows at == cursor may repeat on resume. */
  cursor: string | null;
  /** Ids yielded so far whose updated_at equals the cursor: pass them back as `seenAtCursor` to resume without repeats. */
  idsAtCursor: number[];
  /** True when the scan makes no further request after this page. */
  final: boolean;
  /** Rows still ahead by GitLab's X-Total (null when GitLab leaves it out): a scheduling hint, never used to stop. */
  remaining: number | null;
}

export interface PageOptions {
  maxPages?: number;
}

/** Default page-count guard. */
export const DEFAULT_MAX_PAGES = 100_000;
/** GitLab's largest page; larger per_page values are clamped by the server. */
const MAX_PER_PAGE = 100;

type Client = Pick<GitLabClient, 'get' | 'getUrl'>;

function describe(path: string): string {
  return `GET ${path.split('?')[0] ?? path}`;
}

function itemsOf(response: GitLabResponse, path: string): unknown[] {
  if (!Array.isArray(response.body)) {
    throw new GitLabResponseError(`GitLab answered ${describe(path)} with ${response.body === null ? 'null' : typeof response.body} where a JSON array (a page of results) was expected.`);
  }
  return response.body as unknown[];
}

function guard(pages: number, maxPages: number, path: string): void {
  if (pages >= maxPages) {
    throw new GitLabResponseError(`Stopped reading ${describe(path)} after ${maxPages} pages: GitLab kept announcing another page. This is a server or proxy problem; the data read so far is kept.`);
  }
}

function intHeader(headers: Headers, name: string): number | null {
  const raw = headers.get(name)?.trim();
  return raw && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** The page size actually served: X-Per-Page, else the requested per_page clamped to 100, else null. */
function servedPageSize(headers: Headers, requested: unknown): number | null {
  const header = intHeader(headers, 'x-per-page');
  if (header !== null && header > 0) return header;
  const n = typeof requested === 'number' ? requested : typeof requested === 'string' && /^\d+$/.test(requested) ? Number(requested) : null;
  return n !== null && n > 0 ? Math.min(n, MAX_PER_PAGE) : null;
}

function numericId(item: unknown): number | null {
  const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
  return typeof id === 'number' && Number.isFinite(id) ? id : null;
}

/** Offset pagination (`page=N`). Falls over to keyset when GitLab's offset cap answers 405. */
export async function* offsetPages(client: Client, path: string, query: Query, opts: PageOptions = {}): AsyncGenerator<Page> {
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  const byIdAsc = (query.order_by === undefined || query.order_by === 'id') && query.sort === 'asc';
  // When the order is not id asc, a switch to keyset restarts from the first id: remember what was emitted.
  const emitted = byIdAsc ? null : new Set<number>();
  let lastId: number | null = null;
  let page = typeof query.page === 'number' ? query.page : Number(query.page ?? 1) || 1;
  let pages = 0;
  for (;;) {
    guard(pages, maxPages, path);
    let response: GitLabResponse;
    try {
      response = await client.get(path, { ...query, page });
    } catch (err) {
      if (err instanceof GitLabHttpError && err.status === 405 && isOffsetCapMessage(err.gitlabMessage) && pages > 0) {
        yield* keysetAfterOffsetCap(client, path, query, lastId, emitted, maxPages - pages);
        return;
      }
      throw err;
    }
    pages += 1;
    const items = itemsOf(response, path);
    for (const item of items) {
      const id = numericId(item);
      if (id !== null) {
        lastId = lastId === null ? id : Math.max(lastId, id);
        emitted?.add(id);
      }
    }
    yield { items, response };
    if (items.length === 0) return;
    const size = servedPageSize(response.headers, query.per_page);
    if (size !== null && items.length < size) return;
    const nextHeader = response.headers.get('x-next-page');
    let next: number | null;
    if (nextHeader !== null) {
      next = /^\s*\d+\s*$/.test(nextHeader) ? Number(nextHeader) : null;
    } else {
      next = nextLink(response.headers.get('link')) !== null ? page + 1 : null;
    }
    if (next === null || next <= page) return;
    page = next;
  }
}

async function* keysetAfterOffsetCap(client: Client, path: string, query: Query, lastId: number | null, emitted: Set<number> | null, maxPages: number): AsyncGenerator<Page> {
  const { page: _page, order_by: _order, sort: _sort, ...rest } = query;
  const keysetQuery: Query = { ...rest, order_by: 'id', sort: 'asc' };
  if (emitted === null && lastId !== null) keysetQuery.id_after = lastId;
  for await (const p of keysetPages(client, path, keysetQuery, { maxPages })) {
    if (emitted === null) {
      yield p;
      continue;
    }
    const fresh = p.items.filter((item) => {
      const id = numericId(item);
      return id === null || !emitted.has(id);
    });
    yield { items: fresh, response: p.response };
  }
}

/** Keyset pagination: `pagination=keyset`, then Link rel="next" verbatim until there is none. */
export async function* keysetPages(client: Client, path: string, query: Query, opts: PageOptions = {}): AsyncGenerator<Page> {
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  let response: GitLabResponse;
  try {
    response = await client.get(path, { ...query, pagination: 'keyset' });
  } catch (err) {
    // "Keyset pagination is not yet available for this type of request" (405; 400 on older GitLab): use offset paging.
    if (err instanceof GitLabHttpError && (err.status === 405 || err.status === 400) && /keyset/i.test(err.gitlabMessage) && !isOffsetCapMessage(err.gitlabMessage)) {
      yield* offsetPages(client, path, query, opts);
      return;
    }
    throw err;
  }
  let pages = 1;
  let previous: string | null = null;
  for (;;) {
    const items = itemsOf(response, path);
    yield { items, response };
    const next = nextLink(response.headers.get('link'));
    if (next === null) return;
    if (next === previous) {
      throw new GitLabResponseError(`GitLab answered ${describe(path)} with the same next-page link twice; stopping to avoid a loop.`);
    }
    guard(pages, maxPages, path);
    previous = next;
    response = await client.getUrl(next);
    pages += 1;
  }
}

function seekItemsOf<T extends SeekItem>(items: unknown[], path: string): Array<{ item: T; at: number }> {
  return items.map((raw) => {
    const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : null;
    const at = o && typeof o.updated_at === 'string' ? Date.parse(o.updated_at) : Number.NaN;
    if (!o || typeof o.id !== 'number' || Number.isNaN(at)) {
      throw new GitLabResponseError(`GitLab answered ${describe(path)} with an item without a numeric id and a valid updated_at.`);
    }
    return { item: raw as T, at };
  });
}

/**
 * The timestamp seek over a list sorted by updated_at ascending. Cannot skip rows updated during
 * the scan (they move past the cursor and are read later); a page entirely at one timestamp still
 * makes progress by stepping page numbers at that cursor. Stepping pages is offset paging, so a
 * row of the tie updated meanwhile shifts the rest back by one, and a row may slide onto a page
 * already read: a row of the tie, or the first rows after it. So once a stepped tie ends (a later
 * row, a short page or an empty one), the tie is re-read (`updated_after = updated_before = T`)
 * until a pass finds nothing new, and the scan goes on from just after T, page 1, reading the rows
 * after the tie again rather than trusting the page that ended it.
 */
export async function* seekPages<T extends SeekItem>(
  client: Client,
  path: string,
  opts: {
    query: Query;
    updatedAfter: string | null;
    pageSize: number;
    maxPages?: number;
    seenAtCursor?: readonly number[];
    /**
     * The inclusive upper bound (`updated_before`), asked before every request and after every
     * answer: it may be lowered while a page is in flight (a range split, see scan-ranges.ts), and
     * rows past it are then dropped and the scan ends there.
     */
    until?: () => string | null;
    /**
     * Asked when a page that has a next one comes in: true sends the next request before the page
     * is handed on, so the round trip overlaps the caller's work on this page. Say false when the
     * caller may stop after this page (the request would be wasted). Default: never.
     */
    prefetch?: () => boolean;
  },
): AsyncGenerator<SeekPage<T>> {
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  let cursorMs = opts.updatedAfter === null ? Number.NEGATIVE_INFINITY : Date.parse(opts.updatedAfter);
  if (Number.isNaN(cursorMs)) throw new GitLabResponseError(`seekPages: updatedAfter is not a timestamp: ${opts.updatedAfter}`);
  let cursor: string | null = opts.updatedAfter === null ? null : new Date(cursorMs).toISOString();
  /** Ids emitted whose updated_at equals the cursor. */
  let atCursor = new Set<number>(opts.updatedAfter === null ? [] : (opts.seenAtCursor ?? []));
  let page = 1;
  const budget = { pages: 0 };
  let remaining: number | null = null;
  const fetchRows = async (query: Query & { page: number }): Promise<{ rows: Array<{ item: T; at: number }>; short: boolean; total: number | null }> => {
    guard(budget.pages, maxPages, path);
    const until = opts.until?.() ?? undefined;
    const response = await client.get(path, { ...opts.query, order_by: 'updated_at', sort: 'asc', per_page: opts.pageSize, updated_before: until, ...query });
    budget.pages += 1;
    const all = seekItemsOf<T>(itemsOf(response, path), path);
    // The bound may have been lowered while this page was in flight: what lies past it is another range's.
    const limit = opts.until?.() ?? null;
    const limitMs = limit === null ? Number.POSITIVE_INFINITY : Date.parse(limit);
    const rows = limitMs === Number.POSITIVE_INFINITY ? all : all.filter((r) => r.at <= limitMs);
    if (rows.length < all.length) {
      remaining = 0;
      // GitLab's count covers rows past the bound: not a count of these rows.
      return { rows, short: true, total: null };
    }
    const size = servedPageSize(response.headers, opts.pageSize);
    // GitLab says when this filter has no further page (X-Next-Page empty): no extra request to find the end.
    const nextHeader = response.headers.get('x-next-page');
    const lastPage = nextHeader !== null && nextHeader.trim() === '';
    const total = Number(response.headers.get('x-total') ?? Number.NaN);
    remaining = Number.isSafeInteger(total) && total >= 0 ? Math.max(0, total - query.page * (size ?? opts.pageSize)) : null;
    return { rows, short: rows.length === 0 || lastPage || (size !== null && rows.length < size), total: Number.isSafeInteger(total) && total >= 0 ? total : null };
  };

  type Rows = Awaited<ReturnType<typeof fetchRows>>;
  /**
   * True once a tie at the cursor that was stepped through by page numbers has been re-checked: the
   * scan then goes on just after it (`updated_after` = cursor + 1 ms, which GitLab's millisecond
   * timestamps make the first later value), not from the rows that followed the tie on its last page.
   */
  let pastTie = false;
  const after = (): string | undefined => (cursor === null ? undefined : pastTie ? new Date(cursorMs + 1).toISOString() : cursor);
  /** The next request, already sent (see `prefetch`); its failure surfaces when it is awaited. */
  let ahead: Promise<Rows> | null = null;
  const sendAhead = async (short: boolean): Promise<void> => {
    if (short || !opts.prefetch?.()) return;
    ahead = fetchRows({ page, updated_after: after() });
    // A caller that stops early never awaits it: that is not an unhandled rejection.
    ahead.catch(() => undefined);
    // Node writes a request to its socket on a later tick; without this turn of the event loop the
    // write would wait for the caller's work on this page, and the round trip would not overlap it.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  for (;;) {
    const pending: Promise<Rows> = ahead ?? fetchRows({ page, updated_after: after() });
    ahead = null;
    const { rows, short } = await pending;
    // This page is a step (page=2, 3, …) through a tie at the cursor.
    const stepped = page > 1 && cursor !== null;
    if (rows.length === 0 && !stepped) return;

    let fresh: T[] = [];
    let maxMs = cursorMs;
    for (const { item, at } of rows) {
      if (at < cursorMs || (at === cursorMs && atCursor.has(item.id))) continue;
      fresh.push(item);
      if (at > maxMs) maxMs = at;
    }
    if (stepped && (maxMs > cursorMs || short)) {
      // The scan leaves a tie it stepped through. Stepping is offset paging: a row of the tie edited
      // meanwhile shifts every later row back by one, so a row may have slid onto a page already read,
      // whether it is a row of the tie or the first row after it (or, in a bounded range, past the
      // last page). So: the tie's rows on this page, then the tie re-read until a pass finds nothing
      // new, then the scan goes on just after the tie. The later rows of this page come again then.
      const tieRows = rows.filter((r) => r.at === cursorMs && !atCursor.has(r.item.id)).map((r) => r.item);
      for (const r of tieRows) atCursor.add(r.id);
      if (tieRows.length > 0) yield { items: tieRows, cursor: cursor as string, idsAtCursor: [...atCursor], final: false, remaining };
      yield* recheckTie(cursor as string, cursorMs);
      page = 1;
      pastTie = true;
      const limit = opts.until?.() ?? null;
      if (limit !== null && Date.parse(limit) <= cursorMs) return;
      continue;
    }
    if (maxMs > cursorMs) {
      cursorMs = maxMs;
      cursor = new Date(maxMs).toISOString();
      atCursor = new Set(rows.filter((r) => r.at === maxMs).map((r) => r.item.id));
      page = 1;
      pastTie = false;
      // Taken before the next request goes out: its answer may arrive (and set `remaining`) before this page is handed on.
      const here: SeekPage<T> = { items: fresh, cursor, idsAtCursor: [...atCursor], final: short, remaining };
      await sendAhead(short);
      yield here;
    } else {
      // Nothing later than the cursor on this page: the whole page sits at the cursor timestamp
      // (a tie), so step to the next page at the same cursor.
      for (const r of rows) if (r.at === cursorMs) atCursor.add(r.item.id);
      page += 1;
      const here: SeekPage<T> = { items: fresh, cursor, idsAtCursor: [...atCursor], final: short, remaining };
      await sendAhead(short);
      if (fresh.length > 0) yield here;
    }
    if (short) return;
  }

  /**
   * Re-reads the rows of a tie (`updated_after` = `updated_before` = its timestamp, to the last
   * microsecond: GitLab stores microseconds and shows milliseconds), page by page, until a pass finds
   * no row it had not seen and no row left the tie while it was read. The tie only shrinks (an edited
   * row leaves it for a later timestamp): a pass during which no row leaves reads it whole, and reads
   * as many rows as GitLab counted when it began (X-Total), or as the pass before; the passes end.
   */
  async function* recheckTie(tie: string, tieMs: number): AsyncGenerator<SeekPage<T>> {
    const through = `${new Date(tieMs).toISOString().slice(0, -1)}999Z`;
    let previous = -1;
    for (;;) {
      let found = 0;
      let read = 0;
      let total: number | null = null;
      for (let p = 1; ; p += 1) {
        const { rows, short, total: t } = await fetchRows({ page: p, updated_after: tie, updated_before: through });
        if (p === 1) total = t ?? null;
        read += rows.length;
        const missed = rows.filter((r) => r.at === tieMs && !atCursor.has(r.item.id)).map((r) => r.item);
        for (const m of missed) atCursor.add(m.id);
        found += missed.length;
        if (missed.length > 0) yield { items: missed, cursor: tie, idsAtCursor: [...atCursor], final: false, remaining };
        if (short) break;
      }
      // A pass is whole only if no row left the tie while it was read (rows only leave a past tie):
      // it then reads as many rows as GitLab counted at its start (X-Total), or as the pass before.
      if (found === 0 && read === (total ?? previous)) return;
      previous = read;
    }
  }
}
