// @ts-check
/** REST API v4 handlers of the GitLab simulator: projects, merge requests, groups, users, version. */
import { lowerBound, upperBound, toMicros } from './store.mjs';
import { readPaging, offsetPage, offsetCapError, keysetPage } from './pagination.mjs';
import { adminUser, basicUser, publicUser, selfUser, simpleProject, simpleMergeRequest } from './views.mjs';

/**
 * @typedef {import('./store.mjs').Store} Store
 * @typedef {import('./dataset.mjs').Project} Project
 * @typedef {import('./dataset.mjs').MergeRequest} MergeRequest
 * @typedef {import('./dataset.mjs').User} User
 * @typedef {import('./dataset.mjs').Group} Group
 * @typedef {{ admin: boolean, pageSizeMax: number, offsetCap: number, totalsCap: number, movedProjects: boolean, version: string }} RouteConfig
 * @typedef {{ store: Store, cfg: RouteConfig, query: URLSearchParams, linkBase: string, apiUrl: string }} Ctx
 * @typedef {{ status: number, headers?: Record<string, string>, body: string | Buffer | object }} Answer
 */

/** @param {number} status @param {string} message @returns {Answer} */
export const message = (status, message) => ({ status, body: { message } });
/** @param {number} status @param {string} error @returns {Answer} */
export const errorBody = (status, error) => ({ status, body: { error } });

const PROJECT_NOT_FOUND = () => message(404, '404 Project Not Found');
const KEYSET_UNSUPPORTED = () => message(405, 'Keyset pagination is not yet available for this type of request');

/** Whether the token's user is a member of the project. @param {Project} p */
export const isMember = (p) => Boolean(p.permissions?.project_access);
/** Whether a caller (admin or not) can see the project at all. @param {Project} p @param {boolean} admin */
export const isVisible = (p, admin) => admin || isMember(p) || p.visibility !== 'private';

/** @param {string | null} v */
const bool = (v) => (v === null ? null : v === 'true' || v === '1');

/**
 * A date filter in microseconds, as GitLab's database compares it: `2024-05-01T10:00:00.123Z` is .123000, and
 * `.123999Z` keeps its digits past the millisecond.
 * @param {Ctx} ctx @param {string} name
 * @returns {number | null | Answer} microseconds, null when absent, an Answer on a bad value
 */
function dateParam(ctx, name) {
  const v = ctx.query.get(name);
  if (v === null || v === '') return null;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return errorBody(400, `${name} is invalid`);
  const fraction = /T[\d:]+\.(\d+)/.exec(v)?.[1] ?? '';
  return ms * 1000 + Number(fraction.slice(3, 6).padEnd(3, '0'));
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
/**
 * A JSON array from serialised elements, as one Buffer.
 * @param {readonly Buffer[]} items
 * @returns {Buffer}
 */
function jsonArray(items) {
  /** @type {Buffer[]} */
  const parts = [OPEN];
  items.forEach((b, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(b);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- projects

/**
 * Search as GitLab does: terms (space/+ separated) of 3+ chars are ANDed substrings of path, name or description
 * (and the namespace path with search_namespaces); when no term reaches 3 chars the whole query must match exactly.
 * @param {string} search @param {boolean} namespaces
 * @returns {(p: Project) => boolean}
 */
export function projectSearch(search, namespaces) {
  const q = search.toLowerCase().trim();
  const terms = q.split(/[\s+]+/).filter((t) => t.length >= 3);
  const fields = (/** @type {Project} */ p) => [p.path, p.name, p.description ?? '', namespaces ? p.path_with_namespace : ''].map((s) => s.toLowerCase());
  if (terms.length === 0) return (p) => fields(p).some((f) => f === q);
  return (p) => {
    const fs = fields(p);
    return terms.every((t) => fs.some((f) => f.includes(t)));
  };
}

const PROJECT_ORDERS = new Set(['id', 'name', 'path', 'created_at', 'updated_at', 'last_activity_at', 'star_count', 'similarity']);

/**
 * Shared filtering/ordering/paging of project lists (/projects and /groups/:id/projects).
 * @param {Ctx} ctx
 * @param {(p: Project) => boolean} scope
 * @param {{ capped: boolean, updatedFilters: boolean }} mode
 * @returns {Answer}
 */
function listProjects(ctx, scope, mode) {
  const q = ctx.query;
  const admin = ctx.cfg.admin;
  const orderBy = q.get('order_by') || 'created_at';
  const sort = q.get('sort') || 'desc';
  if (!PROJECT_ORDERS.has(orderBy)) return errorBody(400, 'order_by does not have a valid value');
  if (sort !== 'asc' && sort !== 'desc') return errorBody(400, 'sort does not have a valid value');
  /** @type {Array<(p: Project) => boolean>} */
  const filters = [(p) => isVisible(p, admin), scope];
  if (bool(q.get('membership'))) filters.push(isMember);
  if (bool(q.get('owned'))) filters.push((p) => p.namespace.kind === 'user' && p.namespace.id === ctx.store.dataset.owner.namespace_id);
  const archived = bool(q.get('archived'));
  if (archived !== null) filters.push((p) => p.archived === archived);
  if (bool(q.get('active'))) filters.push((p) => !p.archived && !p.marked_for_deletion_on);
  const visibility = q.get('visibility');
  if (visibility) {
    if (!['public', 'internal', 'private'].includes(visibility)) return errorBody(400, 'visibility does not have a valid value');
    filters.push((p) => p.visibility === visibility);
  }
  const search = q.get('search');
  if (search) filters.push(projectSearch(search, bool(q.get('search_namespaces')) === true));
  if (bool(q.get('with_merge_requests_enabled'))) filters.push((p) => p.merge_requests_enabled === true);
  const minAccess = Number(q.get('min_access_level') ?? '');
  if (q.get('min_access_level') && Number.isFinite(minAccess)) filters.push((p) => (p.permissions?.project_access?.access_level ?? 0) >= minAccess);
  const topic = q.get('topic');
  if (topic) {
    const wanted = topic.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
    filters.push((p) => wanted.every((t) => p.topics.map((/** @type {string} */ x) => x.toLowerCase()).includes(t)));
  }
  const idAfter = Number(q.get('id_after') ?? NaN);
  if (Number.isFinite(idAfter)) filters.push((p) => p.id > idAfter);
  const idBefore = Number(q.get('id_before') ?? NaN);
  if (Number.isFinite(idBefore)) filters.push((p) => p.id < idBefore);
  for (const [name, cmp] of /** @type {const} */ ([['last_activity_after', 1], ['last_activity_before', -1]])) {
    const us = dateParam(ctx, name);
    if (us !== null && typeof us === 'object') return us;
    if (us !== null) filters.push((p) => (cmp > 0 ? toMicros(p.last_activity_at) >= us : toMicros(p.last_activity_at) <= us));
  }
  // updated_after/before: honoured only with order_by=updated_at (GitLab 15.10+)
  if (mode.updatedFilters && orderBy === 'updated_at') {
    const after = dateParam(ctx, 'updated_after');
    if (after !== null && typeof after === 'object') return after;
    const before = dateParam(ctx, 'updated_before');
    if (before !== null && typeof before === 'object') return before;
    if (after !== null) filters.push((p) => toMicros(p.updated_at) >= after);
    if (before !== null) filters.push((p) => toMicros(p.updated_at) <= before);
  }
  const keyset = q.get('pagination') === 'keyset';
  if (keyset && orderBy !== 'id') return KEYSET_UNSUPPORTED();
  const ordered = ctx.store.projectsOrderedBy(orderBy === 'similarity' ? 'id' : orderBy);
  let rows = ordered.filter((p) => filters.every((f) => f(p)));
  if (sort === 'desc') rows = rows.reverse();
  const simple = bool(q.get('simple')) === true;
  const serialise = (/** @type {Project[]} */ list) => jsonArray(list.map((p) => (simple ? ctx.store.json('project-simple', p, simpleProject) : ctx.store.json('project', p))));
  const perPageMax = ctx.cfg.pageSizeMax;
  if (keyset) {
    const { perPage } = readPaging(q, perPageMax);
    const page = keysetPage(rows, perPage, (last) => (sort === 'asc' ? { id_after: last.id, id_before: null } : { id_before: last.id, id_after: null }), { base: ctx.linkBase, query: q });
    return { status: 200, headers: page.headers, body: serialise(page.slice) };
  }
  const paging = readPaging(q, perPageMax);
  if (mode.capped && ctx.cfg.offsetCap > 0 && paging.page * paging.perPage > ctx.cfg.offsetCap) return { status: 405, body: offsetCapError('Project', ctx.cfg.offsetCap) };
  const page = offsetPage(rows, paging, { totalsCap: ctx.cfg.totalsCap, base: ctx.linkBase, query: q });
  return { status: 200, headers: page.headers, body: serialise(page.slice) };
}

/** GET /projects @param {Ctx} ctx @returns {Answer} */
export function getProjects(ctx) {
  return listProjects(ctx, () => true, { capped: true, updatedFilters: true });
}

/**
 * Finds a project by numeric id or URL-encoded path, as the caller may see it.
 * @param {Ctx} ctx @param {string} rawId
 * @returns {{ project: Project } | { redirectTo: number } | null}
 */
export function findProject(ctx, rawId) {
  const { store } = ctx;
  /** @type {Project | undefined} */
  let p;
  if (/^\d+$/.test(rawId)) p = store.projectsById.get(Number(rawId));
  else {
    let path;
    try {
      path = decodeURIComponent(rawId).toLowerCase();
    } catch {
      return null;
    }
    p = store.projectsByPath.get(path);
    if (!p && ctx.cfg.movedProjects) {
      const target = store.redirects.get(path);
      const tp = target === undefined ? undefined : store.projectsById.get(target);
      if (tp && isVisible(tp, ctx.cfg.admin)) return { redirectTo: tp.id };
    }
  }
  if (!p || !isVisible(p, ctx.cfg.admin)) return null;
  return { project: p };
}

/** GET /projects/:id @param {Ctx} ctx @param {string} rawId @returns {Answer} */
export function getProject(ctx, rawId) {
  const found = findProject(ctx, rawId);
  if (!found) return PROJECT_NOT_FOUND();
  if ('redirectTo' in found) {
    const location = `${ctx.apiUrl}/projects/${found.redirectTo}`;
    return { status: 301, headers: { Location: location, 'Content-Type': 'text/plain; charset=utf-8' }, body: `301 Moved Permanently: ${location}` };
  }
  return { status: 200, body: ctx.store.json('project', found.project) };
}

// ---------------------------------------------------------------- merge requests

const MR_STATES = new Set(['opened', 'closed', 'locked', 'merged', 'all']);
const MR_ORDERS = new Set(['created_at', 'updated_at', 'merged_at', 'title']);

/**
 * GET /projects/:id/merge_requests
 * @param {Ctx} ctx @param {string} rawId
 * @param {(project: Project) => void} [beforeAnswer] hook (mutation during scan) run once the project is known
 * @returns {Answer}
 */
export function getMergeRequests(ctx, rawId, beforeAnswer) {
  const found = findProject(ctx, rawId);
  if (!found || 'redirectTo' in found) return PROJECT_NOT_FOUND();
  const p = found.project;
  if (p.merge_requests_enabled === false) return message(403, '403 Forbidden');
  const q = ctx.query;
  if (q.get('pagination') === 'keyset') return KEYSET_UNSUPPORTED();
  const state = q.get('state') || 'all';
  const orderBy = q.get('order_by') || 'created_at';
  const sort = q.get('sort') || 'desc';
  const scope = q.get('scope') || 'all';
  if (!MR_STATES.has(state)) return errorBody(400, 'state does not have a valid value');
  if (!MR_ORDERS.has(orderBy)) return errorBody(400, 'order_by does not have a valid value');
  if (sort !== 'asc' && sort !== 'desc') return errorBody(400, 'sort does not have a valid value');
  if (!['all', 'created_by_me', 'assigned_to_me', 'created-by-me', 'assigned-to-me'].includes(scope)) return errorBody(400, 'scope does not have a valid value');
  /** @type {Record<string, number | null>} */
  const bounds = {};
  for (const name of ['updated_after', 'updated_before', 'created_after', 'created_before']) {
    const v = dateParam(ctx, name);
    if (v !== null && typeof v === 'object') return v;
    bounds[name] = v;
  }
  if (beforeAnswer) beforeAnswer(p);
  const idx = ctx.store.mergeRequestIndex(p.id);
  const ua = bounds.updated_after ?? null;
  const ub = bounds.updated_before ?? null;
  const ca = bounds.created_after ?? null;
  const cb = bounds.created_before ?? null;
  /** @type {MergeRequest[]} */
  let rows;
  /** @type {Array<(m: MergeRequest) => boolean>} */
  const filters = [];
  if (orderBy === 'updated_at' || (orderBy !== 'created_at' && (ua !== null || ub !== null))) {
    const lo = ua === null ? 0 : lowerBound(idx.updatedMs, ua);
    const hi = ub === null ? idx.updatedMs.length : upperBound(idx.updatedMs, ub);
    rows = idx.byUpdated.slice(lo, Math.max(lo, hi));
    if (ca !== null) filters.push((m) => m._c >= ca);
    if (cb !== null) filters.push((m) => m._c <= cb);
  } else {
    const lo = ca === null ? 0 : lowerBound(idx.createdMs, ca);
    const hi = cb === null ? idx.createdMs.length : upperBound(idx.createdMs, cb);
    rows = idx.byCreated.slice(lo, Math.max(lo, hi));
    if (ua !== null) filters.push((m) => m._u >= ua);
    if (ub !== null) filters.push((m) => m._u <= ub);
  }
  if (state !== 'all') filters.push((m) => m.state === state);
  const owner = ctx.store.dataset.owner.id;
  if (scope.startsWith('created')) filters.push((m) => m.author?.id === owner);
  if (scope.startsWith('assigned')) filters.push((m) => m.assignees.some((/** @type {{id:number}} */ a) => a.id === owner));
  const iids = q.getAll('iids[]').concat(q.getAll('iids')).map(Number).filter(Number.isFinite);
  if (iids.length > 0) {
    const set = new Set(iids);
    filters.push((m) => set.has(m.iid));
  }
  const authorId = q.get('author_id');
  if (authorId) filters.push((m) => String(m.author?.id) === authorId);
  const labels = q.get('labels');
  if (labels) {
    const wanted = labels.split(',').map((s) => s.trim()).filter(Boolean);
    filters.push((m) => wanted.every((l) => m.labels.includes(l)));
  }
  if (filters.length > 0) rows = rows.filter((m) => filters.every((f) => f(m)));
  /** The sort key; ties by id descending in both directions, as GitLab's `with_order_id_desc`. @type {(a: MergeRequest, b: MergeRequest) => number} */
  const byKey =
    orderBy === 'merged_at' ? (a, b) => (Date.parse(a.merged_at ?? '') || 0) - (Date.parse(b.merged_at ?? '') || 0)
      : orderBy === 'title' ? (a, b) => a.title.localeCompare(b.title)
        : orderBy === 'created_at' ? (a, b) => a._c - b._c
          : (a, b) => a._u - b._u;
  if (orderBy === 'merged_at' || orderBy === 'title') rows = rows.slice().sort((a, b) => byKey(a, b) || b.id - a.id);
  if (sort === 'desc') rows = rows.slice().sort((a, b) => byKey(b, a) || b.id - a.id);
  const page = offsetPage(rows, readPaging(q, ctx.cfg.pageSizeMax), { totalsCap: ctx.cfg.totalsCap, base: ctx.linkBase, query: q });
  const simple = q.get('view') === 'simple';
  const body = jsonArray(page.slice.map((m) => (simple ? ctx.store.json('mr-simple', m, simpleMergeRequest) : ctx.store.json('mr', m))));
  return { status: 200, headers: page.headers, body };
}

// ---------------------------------------------------------------- groups

/** @param {Ctx} ctx @param {string} rawId @returns {Group | null} */
function findGroup(ctx, rawId) {
  if (/^\d+$/.test(rawId)) return ctx.store.groupsById.get(Number(rawId)) ?? null;
  try {
    return ctx.store.groupsByPath.get(decodeURIComponent(rawId).toLowerCase()) ?? null;
  } catch {
    return null;
  }
}

/** GET /groups/:id @param {Ctx} ctx @param {string} rawId @returns {Answer} */
export function getGroup(ctx, rawId) {
  const g = findGroup(ctx, rawId);
  if (!g) return message(404, '404 Group Not Found');
  return { status: 200, body: ctx.store.json('group', g) };
}

/** GET /groups/:id/projects @param {Ctx} ctx @param {string} rawId @returns {Answer} */
export function getGroupProjects(ctx, rawId) {
  const g = findGroup(ctx, rawId);
  if (!g) return message(404, '404 Group Not Found');
  const withSubgroups = bool(ctx.query.get('include_subgroups')) === true;
  const prefix = `${g.full_path.toLowerCase()}/`;
  /** @type {(p: Project) => boolean} */
  const scope = withSubgroups
    ? (p) => p.namespace.kind === 'group' && (p.namespace.id === g.id || String(p.namespace.full_path).toLowerCase().startsWith(prefix))
    : (p) => p.namespace.kind === 'group' && p.namespace.id === g.id;
  return listProjects(ctx, scope, { capped: false, updatedFilters: false });
}

// ---------------------------------------------------------------- users

/** @param {number} id */
const userCursor = (id) => Buffer.from(JSON.stringify({ id: String(id), _kd: 'n' })).toString('base64url');
/** @param {string} c */
function readUserCursor(c) {
  try {
    const n = Number(JSON.parse(Buffer.from(c, 'base64url').toString('utf8'))?.id);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** GET /users: non-admins get the basic view ordered by id desc (order_by/sort dropped). @param {Ctx} ctx @returns {Answer} */
export function getUsers(ctx) {
  const q = ctx.query;
  const admin = ctx.cfg.admin;
  let orderBy = 'id';
  let sort = 'desc';
  if (admin) {
    orderBy = q.get('order_by') || 'id';
    sort = q.get('sort') || 'desc';
    if (!['id', 'name', 'username', 'created_at', 'updated_at'].includes(orderBy)) return errorBody(400, 'order_by does not have a valid value');
    if (sort !== 'asc' && sort !== 'desc') return errorBody(400, 'sort does not have a valid value');
  }
  const ds = ctx.store.dataset;
  /** @type {Array<(u: User) => boolean>} */
  const filters = [];
  const username = q.get('username');
  if (username) filters.push((u) => u.username.toLowerCase() === username.toLowerCase());
  const search = q.get('search');
  if (search) {
    const s = search.toLowerCase();
    filters.push((u) => u.username.toLowerCase().includes(s) || u.name.toLowerCase().includes(s) || (u.public_email ?? '').toLowerCase() === s);
  }
  if (bool(q.get('active'))) filters.push((u) => u.state === 'active');
  if (bool(q.get('blocked'))) filters.push((u) => u.state === 'blocked');
  if (bool(q.get('humans'))) filters.push((u) => !u.bot && u.username !== 'ghost');
  if (bool(q.get('exclude_internal'))) filters.push((u) => u.username !== 'ghost');
  if (bool(q.get('without_project_bots'))) filters.push((u) => !/^project_\d+_bot/.test(u.username));
  if (admin) {
    for (const [name, cmp] of /** @type {const} */ ([['created_after', 1], ['created_before', -1]])) {
      const us = dateParam(ctx, name);
      if (us !== null && typeof us === 'object') return us;
      if (us !== null) filters.push((u) => (cmp > 0 ? toMicros(u.created_at) >= us : toMicros(u.created_at) <= us));
    }
  }
  const keyset = q.get('pagination') === 'keyset';
  if (keyset && orderBy !== 'id') return KEYSET_UNSUPPORTED();
  if (keyset) {
    const c = q.get('cursor');
    const afterId = c ? readUserCursor(c) : null;
    if (c && afterId === null) return errorBody(400, 'cursor is invalid');
    if (afterId !== null) filters.push((u) => (sort === 'asc' ? u.id > afterId : u.id < afterId));
  }
  let rows = ds.users.filter((u) => filters.every((f) => f(u)));
  const key = orderBy === 'updated_at' ? 'created_at' : orderBy;
  if (key !== 'id') rows.sort((a, b) => (key === 'created_at' ? Date.parse(a.created_at) - Date.parse(b.created_at) : String(a[key]).localeCompare(String(b[key]))) || a.id - b.id);
  else rows.sort((a, b) => a.id - b.id);
  if (sort === 'desc') rows = rows.reverse();
  const view = admin ? 'user-admin' : 'user-basic';
  const serialise = (/** @type {User[]} */ list) => jsonArray(list.map((u) => ctx.store.json(view, u, admin ? adminUser : basicUser)));
  if (keyset) {
    const { perPage } = readPaging(q, ctx.cfg.pageSizeMax);
    const page = keysetPage(rows, perPage, (last) => ({ cursor: userCursor(last.id) }), { base: ctx.linkBase, query: q });
    return { status: 200, headers: page.headers, body: serialise(page.slice) };
  }
  const paging = readPaging(q, ctx.cfg.pageSizeMax);
  if (ctx.cfg.offsetCap > 0 && paging.page * paging.perPage > ctx.cfg.offsetCap) return { status: 405, body: offsetCapError('User', ctx.cfg.offsetCap) };
  const page = offsetPage(rows, paging, { totalsCap: ctx.cfg.totalsCap, base: ctx.linkBase, query: q });
  return { status: 200, headers: page.headers, body: serialise(page.slice) };
}

/** GET /users/:id: public view, admin view for admins. @param {Ctx} ctx @param {string} rawId @returns {Answer} */
export function getUser(ctx, rawId) {
  const u = /^\d+$/.test(rawId) ? ctx.store.dataset.usersById.get(Number(rawId)) : undefined;
  if (!u) return message(404, '404 User Not Found');
  const admin = ctx.cfg.admin;
  return { status: 200, body: ctx.store.json(admin ? 'user-admin' : 'user-public', u, admin ? adminUser : publicUser) };
}

/** GET /user: the token's own user (self view). @param {Ctx} ctx @returns {Answer} */
export function getCurrentUser(ctx) {
  const u = ctx.store.dataset.owner;
  const body = selfUser(u);
  if (ctx.cfg.admin) body.is_admin = true;
  return { status: 200, body };
}

/** GET /version @param {Ctx} ctx @returns {Answer} */
export function getVersion(ctx) {
  return { status: 200, body: { version: ctx.cfg.version, revision: '6e1fa3c5b8d', kas: { enabled: true, externalUrl: null, externalK8sProxyUrl: null, version: ctx.cfg.version.replace(/-ee$/, '') }, enterprise: ctx.cfg.version.endsWith('-ee') } };
}
