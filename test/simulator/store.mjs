// @ts-check
/**
 * Indexes over the simulator dataset (sorted per-project MR arrays, lookups by id/path), a bounded cache of
 * serialised entities, the simulator clock and the mutation helpers that keep the indexes in step.
 */
import { embedUser, iso } from './dataset.mjs';

/**
 * @typedef {import('./dataset.mjs').Dataset} Dataset
 * @typedef {import('./dataset.mjs').MergeRequest} MergeRequest
 * @typedef {import('./dataset.mjs').Project} Project
 * @typedef {import('./dataset.mjs').User} User
 * @typedef {import('./dataset.mjs').Group} Group
 * @typedef {{ byCreated: MergeRequest[], byUpdated: MergeRequest[], updatedMs: number[], createdMs: number[], dirty: boolean }} ProjectIndex
 * @typedef {{ type: 'update' | 'create' | 'delete', id: number, project_id: number, updated_at: string | null, at: number }} MutationEntry
 */

/**
 * A timestamp as GitLab's database holds it: microseconds since the epoch (a double holds them exactly). The API
 * shows milliseconds, so rows that read the same `updated_at` may still differ in their last three digits, and a
 * filter such as `updated_before=<that ms>` leaves out the later ones.
 * @param {string} text ISO 8601 @param {number} [micros] the digits past the millisecond, 0 – 999
 */
export const toMicros = (text, micros = 0) => Date.parse(text) * 1000 + micros;

/**
 * The digits past the millisecond of a row's updated_at, fixed per row and clock reading (Knuth's multiplicative
 * hash): different rows updated within one millisecond differ, as separate transactions do.
 * @param {number} id @param {number} [salt]
 */
export const subMillisecond = (id, salt = 0) => (Math.imul((id ^ salt) >>> 0, 2654435761) >>> 0) % 1000;

// Ties are broken by id descending, as GitLab does for either sort direction (Issuable.sort_by_attribute
// ends with `with_order_id_desc`): a client must not assume ties come in id order.
/** @param {MergeRequest} a @param {MergeRequest} b */
const byUpdatedAsc = (a, b) => (a._u - b._u) || (b.id - a.id);
/** @param {MergeRequest} a @param {MergeRequest} b */
const byCreatedAsc = (a, b) => (a._c - b._c) || (b.id - a.id);

/**
 * Index of the first element of sorted `arr` that is >= x.
 * @param {number[]} arr @param {number} x
 */
export function lowerBound(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (/** @type {number} */ (arr[mid]) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Index of the first element of sorted `arr` that is > x.
 * @param {number[]} arr @param {number} x
 */
export function upperBound(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (/** @type {number} */ (arr[mid]) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Store {
  /**
   * @param {Dataset} dataset
   * @param {{ now?: () => number, jsonCacheEntries?: number }} [options]
   */
  constructor(dataset, options = {}) {
    this.dataset = dataset;
    this.nowFn = options.now ?? Date.now;
    this.lastTick = dataset.maxTimestamp;
    this.jsonCacheEntries = options.jsonCacheEntries ?? 40_000;
    /** @type {Map<string, Map<object, Buffer>>} */
    this.jsonCache = new Map();
    /** @type {MutationEntry[]} */
    this.mutationLog = [];
    this.mutationCounts = { updated: 0, created: 0, deleted: 0 };
    /** @type {Map<number, Project>} */
    this.projectsById = new Map();
    /** @type {Map<string, Project>} */
    this.projectsByPath = new Map();
    /** @type {Map<string, number>} old path (lower case) -> project id */
    this.redirects = new Map();
    /** @type {Map<number, Group>} */
    this.groupsById = new Map();
    /** @type {Map<string, Group>} */
    this.groupsByPath = new Map();
    /** @type {Map<number, MergeRequest>} */
    this.mrsById = new Map();
    /** @type {Map<number, ProjectIndex>} */
    this.mrIndex = new Map();
    /** @type {Map<string, Project[]>} */
    this.projectOrders = new Map();
    this.reindex();
  }

  /** Rebuilds every index and clears the JSON cache (after arbitrary changes to the dataset). */
  reindex() {
    const ds = this.dataset;
    this.projectsById = new Map(ds.projects.map((p) => [p.id, p]));
    this.projectsByPath = new Map(ds.projects.map((p) => [p.path_with_namespace.toLowerCase(), p]));
    this.redirects = new Map(ds.redirects.map((r) => [r.from.toLowerCase(), r.projectId]));
    this.groupsById = new Map(ds.groups.map((g) => [g.id, g]));
    this.groupsByPath = new Map(ds.groups.map((g) => [g.full_path.toLowerCase(), g]));
    ds.usersById = new Map(ds.users.map((u) => [u.id, u]));
    this.mrsById = new Map();
    this.mrIndex = new Map(ds.projects.map((p) => [p.id, { byCreated: [], byUpdated: [], updatedMs: [], createdMs: [], dirty: false }]));
    const bulk = ds.bulkEdit;
    for (const m of ds.mergeRequests) {
      // A bulk edit is one statement: its rows share the microsecond too.
      hideSortKeys(m, bulk !== null && m.project_id === bulk.projectId && m.updated_at === bulk.updatedAt ? 0 : subMillisecond(m.id));
      this.mrsById.set(m.id, m);
      let idx = this.mrIndex.get(m.project_id);
      if (!idx) {
        idx = { byCreated: [], byUpdated: [], updatedMs: [], createdMs: [], dirty: false };
        this.mrIndex.set(m.project_id, idx);
      }
      idx.byCreated.push(m);
      idx.byUpdated.push(m);
      idx.dirty = true;
    }
    let maxId = ds.nextMergeRequestId;
    for (const m of ds.mergeRequests) maxId = Math.max(maxId, m.id + 1);
    ds.nextMergeRequestId = maxId;
    for (const idx of this.mrIndex.values()) this.sortIndex(idx);
    this.projectOrders = new Map();
    this.jsonCache.clear();
  }

  /** @param {ProjectIndex} idx */
  sortIndex(idx) {
    idx.byCreated.sort(byCreatedAsc);
    idx.byUpdated.sort(byUpdatedAsc);
    idx.updatedMs = idx.byUpdated.map((m) => m._u);
    idx.createdMs = idx.byCreated.map((m) => m._c);
    idx.dirty = false;
  }

  /**
   * Sorted MR arrays of one project (never undefined for a known project).
   * @param {number} projectId
   * @returns {ProjectIndex}
   */
  mergeRequestIndex(projectId) {
    let idx = this.mrIndex.get(projectId);
    if (!idx) {
      idx = { byCreated: [], byUpdated: [], updatedMs: [], createdMs: [], dirty: false };
      this.mrIndex.set(projectId, idx);
    }
    if (idx.dirty) this.sortIndex(idx);
    return idx;
  }

  /**
   * Projects sorted by a column (cached until the next change).
   * @param {string} orderBy id | name | path | created_at | updated_at | last_activity_at | star_count
   * @returns {Project[]} ascending
   */
  projectsOrderedBy(orderBy) {
    let arr = this.projectOrders.get(orderBy);
    if (!arr) {
      const key = orderBy;
      const num = key === 'id' || key === 'star_count';
      const date = key.endsWith('_at');
      arr = this.dataset.projects.slice().sort((a, b) => {
        const av = a[key];
        const bv = b[key];
        let c = 0;
        if (num) c = av - bv;
        else if (date) c = Date.parse(av) - Date.parse(bv);
        else c = String(av).localeCompare(String(bv));
        return c || a.id - b.id;
      });
      this.projectOrders.set(orderBy, arr);
    }
    return arr;
  }

  /**
   * Serialised JSON (UTF-8 bytes) of `obj` in a view, cached (bounded); joined into pages without re-encoding.
   * @param {string} view
   * @param {object} obj
   * @param {(o: any) => unknown} [fn] view function (identity when absent)
   * @returns {Buffer}
   */
  json(view, obj, fn) {
    let cache = this.jsonCache.get(view);
    if (!cache) {
      cache = new Map();
      this.jsonCache.set(view, cache);
    }
    let b = cache.get(obj);
    if (b === undefined) {
      b = Buffer.from(JSON.stringify(fn ? fn(obj) : obj));
      if (cache.size >= this.jsonCacheEntries) cache.clear();
      cache.set(obj, b);
    }
    return b;
  }

  /** Fills the JSON cache with every project and merge request in their default views (see server warm()). */
  warm() {
    for (const p of this.dataset.projects) this.json('project', p);
    for (const m of this.dataset.mergeRequests) this.json('mr', m);
  }

  /** @param {object} obj */
  forget(obj) {
    for (const cache of this.jsonCache.values()) cache.delete(obj);
  }

  /** The simulator clock: never goes backwards, strictly increasing per call. */
  tick() {
    const t = Math.max(this.nowFn(), this.lastTick + 1);
    this.lastTick = t;
    return t;
  }

  /**
   * Updates a merge request "now": bumps updated_at and changes something visible (state, notes, labels, reviewers).
   * @param {number} id
   * @param {Record<string, unknown>} [patch] fields to set (updated_at defaults to the clock)
   * @param {() => number} [random]
   * @returns {MergeRequest}
   */
  updateMergeRequest(id, patch = {}, random = Math.random) {
    const m = this.mrsById.get(id);
    if (!m) throw new Error(`no merge request ${id}`);
    const t = this.tick();
    const at = iso(t);
    const users = this.dataset.users.filter((u) => !u.bot && u.state === 'active');
    const someone = users.length > 0 ? /** @type {User} */ (users[Math.floor(random() * users.length)]) : this.dataset.owner;
    const r = random();
    if (m.state === 'opened' && r < 0.3) {
      Object.assign(m, { state: 'merged', merged_at: at, merge_user: embedUser(someone), merged_by: embedUser(someone), merge_status: 'merged', detailed_merge_status: 'merged', merge_commit_sha: m.sha });
    } else if (m.state === 'opened' && r < 0.45) {
      Object.assign(m, { state: 'closed', closed_at: at, closed_by: embedUser(someone), detailed_merge_status: 'not_open' });
    } else if (r < 0.7) {
      if (!m.reviewers.some((/** @type {{id:number}} */ x) => x.id === someone.id)) m.reviewers = [...m.reviewers, embedUser(someone)];
    } else {
      m.user_notes_count += 1;
    }
    Object.assign(m, patch);
    if (patch.updated_at === undefined) m.updated_at = at;
    // A given updated_at is an exact one (tests build ties with it); the clock's gets the row's own microseconds.
    this.touchMergeRequest(m, patch.updated_at === undefined ? subMillisecond(m.id, t) : 0);
    this.mutationCounts.updated++;
    this.mutationLog.push({ type: 'update', id: m.id, project_id: m.project_id, updated_at: m.updated_at, at: t });
    return m;
  }

  /**
   * Creates a new opened merge request in a project, created_at = updated_at = the clock.
   * @param {number} projectId
   * @param {Record<string, unknown>} [patch]
   * @param {() => number} [random]
   * @returns {MergeRequest}
   */
  createMergeRequest(projectId, patch = {}, random = Math.random) {
    const p = this.projectsById.get(projectId);
    if (!p) throw new Error(`no project ${projectId}`);
    const idx = this.mergeRequestIndex(projectId);
    const iid = idx.byCreated.reduce((mx, m) => Math.max(mx, m.iid), 0) + 1;
    const id = this.dataset.nextMergeRequestId;
    this.dataset.nextMergeRequestId = id + 1 + Math.floor(random() * 2);
    const at = iso(this.tick());
    const humans = this.dataset.users.filter((u) => !u.bot && u.state === 'active');
    const author = humans.length > 0 ? /** @type {User} */ (humans[Math.floor(random() * humans.length)]) : this.dataset.owner;
    const pwn = p.path_with_namespace;
    /** @type {MergeRequest} */
    const m = {
      id, iid, project_id: projectId, title: `New change ${id} — créé pendant le scan`, description: 'Created while a client was paging.', state: 'opened',
      created_at: at, updated_at: at, merged_by: null, merge_user: null, merged_at: null, merge_after: null, prepared_at: at,
      closed_by: null, closed_at: null, target_branch: p.default_branch, source_branch: `feature/live-${id}`, user_notes_count: 0,
      upvotes: 0, downvotes: 0, author: embedUser(author), assignees: [], assignee: null, reviewers: [],
      source_project_id: projectId, target_project_id: projectId, labels: ['live'], draft: false, imported: false, imported_from: 'none',
      work_in_progress: false, milestone: null, merge_when_pipeline_succeeds: false, merge_status: 'checking',
      detailed_merge_status: 'checking', sha: id.toString(16).padStart(40, '0'), merge_commit_sha: null, squash_commit_sha: null,
      discussion_locked: null, should_remove_source_branch: null, force_remove_source_branch: true, prepared: true,
      reference: `!${iid}`, references: { short: `!${iid}`, relative: `!${iid}`, full: `${pwn}!${iid}` },
      web_url: `${p.web_url}/-/merge_requests/${iid}`,
      time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
      squash: false, squash_on_merge: false, task_completion_status: { count: 0, completed_count: 0 }, has_conflicts: false,
      blocking_discussions_resolved: true, approvals_before_merge: null,
      ...patch,
    };
    hideSortKeys(m, patch.updated_at === undefined ? subMillisecond(id, Date.parse(at)) : 0);
    this.dataset.mergeRequests.push(m);
    this.mrsById.set(m.id, m);
    idx.byCreated.push(m);
    idx.byUpdated.push(m);
    idx.dirty = true;
    this.mutationCounts.created++;
    this.mutationLog.push({ type: 'create', id: m.id, project_id: projectId, updated_at: m.updated_at, at: Date.parse(at) });
    return m;
  }

  /**
   * Hard-deletes a merge request (GitLab has no tombstone for this).
   * @param {number} id
   */
  deleteMergeRequest(id) {
    const m = this.mrsById.get(id);
    if (!m) return false;
    this.mrsById.delete(id);
    const ds = this.dataset;
    ds.mergeRequests.splice(ds.mergeRequests.indexOf(m), 1);
    const idx = this.mergeRequestIndex(m.project_id);
    idx.byCreated.splice(idx.byCreated.indexOf(m), 1);
    idx.byUpdated.splice(idx.byUpdated.indexOf(m), 1);
    idx.dirty = true;
    this.forget(m);
    this.mutationCounts.deleted++;
    this.mutationLog.push({ type: 'delete', id, project_id: m.project_id, updated_at: null, at: this.tick() });
    return true;
  }

  /**
   * Changes project fields; updated_at moves to the clock unless given.
   * @param {number} id
   * @param {Record<string, unknown>} [patch]
   */
  updateProject(id, patch = {}) {
    const p = this.projectsById.get(id);
    if (!p) throw new Error(`no project ${id}`);
    Object.assign(p, patch);
    if (patch.updated_at === undefined) p.updated_at = iso(this.tick());
    this.forget(p);
    this.projectOrders.clear();
    return p;
  }

  /**
   * Renames a project's path; the old path then answers 301 on GET /projects/:path.
   * @param {number} id
   * @param {string} newPath last path segment
   */
  moveProject(id, newPath) {
    const p = this.projectsById.get(id);
    if (!p) throw new Error(`no project ${id}`);
    const old = p.path_with_namespace;
    const pwn = `${p.namespace.full_path}/${newPath}`;
    this.updateProject(id, { path: newPath, name: newPath, path_with_namespace: pwn, name_with_namespace: `${p.name_with_namespace.split(' / ').slice(0, -1).join(' / ')} / ${newPath}`, web_url: p.web_url.replace(old, pwn), http_url_to_repo: `${p.web_url.replace(old, pwn)}.git` });
    this.dataset.redirects.push({ from: old, projectId: id });
    this.projectsByPath.delete(old.toLowerCase());
    this.projectsByPath.set(pwn.toLowerCase(), p);
    this.redirects.set(old.toLowerCase(), id);
    return p;
  }

  /**
   * Re-sorts a changed merge request.
   * @param {MergeRequest} m @param {number} [micros] its updated_at's digits past the millisecond
   */
  touchMergeRequest(m, micros = 0) {
    m._u = toMicros(m.updated_at, micros);
    m._c = toMicros(m.created_at);
    const idx = this.mrIndex.get(m.project_id);
    if (idx) idx.dirty = true;
    this.forget(m);
  }
}

/**
 * Numeric sort keys, in microseconds, stored as non-enumerable properties, so JSON.stringify and spreads never see them.
 * @param {MergeRequest} m @param {number} micros updated_at's digits past the millisecond
 */
function hideSortKeys(m, micros) {
  Object.defineProperty(m, '_u', { value: toMicros(m.updated_at, micros), writable: true, enumerable: false, configurable: true });
  Object.defineProperty(m, '_c', { value: toMicros(m.created_at), writable: true, enumerable: false, configurable: true });
}
