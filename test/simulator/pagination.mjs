// @ts-check
/** Offset and keyset pagination as GitLab serves them (headers, Link, caps). */

/**
 * @typedef {Record<string, string>} Headers
 * @typedef {{ page: number, perPage: number }} Paging
 */

/**
 * Reads page/per_page: per_page defaults to 20 and is clamped to `pageSizeMax`; bad values fall back to defaults.
 * @param {URLSearchParams} q
 * @param {number} pageSizeMax
 * @returns {Paging}
 */
export function readPaging(q, pageSizeMax) {
  const page = Number.parseInt(q.get('page') ?? '', 10);
  const perPage = Number.parseInt(q.get('per_page') ?? '', 10);
  return {
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    perPage: Number.isFinite(perPage) && perPage >= 1 ? Math.min(perPage, pageSizeMax) : 20,
  };
}

/**
 * URL for a Link header: the configured origin, the request path and its query with some parameters replaced.
 * @param {string} base origin + '/api/v4' + path
 * @param {URLSearchParams} q
 * @param {Record<string, string | number | null>} set null deletes
 */
export function linkUrl(base, q, set) {
  const p = new URLSearchParams(q);
  for (const [k, v] of Object.entries(set)) {
    if (v === null) p.delete(k);
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `${base}?${s}` : base;
}

/**
 * One offset page of `items` with GitLab's headers; totals (and rel="last") are dropped above `totalsCap` rows.
 * @template T
 * @param {readonly T[]} items
 * @param {Paging} paging
 * @param {{ totalsCap: number, base: string, query: URLSearchParams }} opts
 * @returns {{ slice: T[], headers: Headers }}
 */
export function offsetPage(items, paging, opts) {
  const { page, perPage } = paging;
  const total = items.length;
  const start = (page - 1) * perPage;
  const slice = items.slice(start, start + perPage);
  const hasNext = start + perPage < total;
  const withTotals = total <= opts.totalsCap;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const link = (/** @type {number} */ n) => linkUrl(opts.base, opts.query, { page: n, per_page: perPage });
  /** @type {string[]} */
  const links = [];
  if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
  if (hasNext) links.push(`<${link(page + 1)}>; rel="next"`);
  links.push(`<${link(1)}>; rel="first"`);
  if (withTotals) links.push(`<${link(totalPages)}>; rel="last"`);
  /** @type {Headers} */
  const headers = {
    'X-Page': String(page),
    'X-Per-Page': String(perPage),
    'X-Next-Page': hasNext ? String(page + 1) : '',
    'X-Prev-Page': page > 1 ? String(page - 1) : '',
    Link: links.join(', '),
  };
  if (withTotals) {
    headers['X-Total'] = String(total);
    headers['X-Total-Pages'] = String(totalPages);
  }
  return { slice, headers };
}

/**
 * The 405 body GitLab sends when page × per_page exceeds the offset limit.
 * @param {string} type 'Project' | 'User'
 * @param {number} cap
 */
export function offsetCapError(type, cap) {
  return { error: `Offset pagination has a maximum allowed offset of ${cap} for requests that return objects of type ${type}. Remaining records can be retrieved using keyset pagination.` };
}

/**
 * A keyset page over items already filtered and ordered; rel="next" whenever the page is full (so the last page may be []).
 * @template {{ id: number }} T
 * @param {readonly T[]} ordered
 * @param {number} perPage
 * @param {(last: T) => Record<string, string | number | null>} nextParams
 * @param {{ base: string, query: URLSearchParams }} opts
 * @returns {{ slice: T[], headers: Headers }}
 */
export function keysetPage(ordered, perPage, nextParams, opts) {
  const slice = ordered.slice(0, perPage);
  /** @type {Headers} */
  const headers = {};
  const last = slice[slice.length - 1];
  if (slice.length === perPage && last) {
    const params = nextParams(last);
    headers.Link = `<${linkUrl(opts.base, opts.query, { ...params, per_page: perPage })}>; rel="next"`;
    if (typeof params.cursor === 'string') headers['X-Next-Cursor'] = params.cursor;
  }
  return { slice, headers };
}
