/**
 * Where the `projects` stream's records come from: the listing or the configured-project fetches
 * of this run (no extra call), or, when the discovery came from the cache, GitLab's
 * `updated_after` listing from the oldest bookmark (one request when nothing changed) plus a
 * fetch for each cached project that has no bookmark yet.
 */
import type { DiscoveryResult, ProjectRef } from '../discovery.js';
import { GitLabHttpError } from '../errors.js';
import type { GitLabClient } from '../gitlab/client.js';
import { offsetPages } from '../gitlab/pagination.js';
import { toProjectSummary } from '../gitlab-project.js';
import { compareTimestamps } from '../time.js';

export interface ProjectSource {
  ref: ProjectRef;
  raw: unknown;
}

/**
 * Yields the raw entity of every selected project that may have changed since `bookmarkOf(id)`.
 * The caller still compares `updated_at` with the bookmark before emitting.
 */
export async function* readProjects(opts: {
  client: GitLabClient;
  discovery: DiscoveryResult;
  pageSize: number;
  bookmarkOf: (projectId: number) => string | null;
  /**
   * The projects emitted longest ago first: never emitted, then oldest bookmark (max_records_per_sync, where a run
   * may stop after any record: in listing order, the same projects changing before every run would take the whole
   * budget, run after run, and the others would never come).
   */
  leastRecentFirst?: boolean;
}): AsyncGenerator<ProjectSource> {
  const missing: ProjectRef[] = [];
  for (const ref of opts.leastRecentFirst === true ? leastRecentFirst(opts.discovery.selected, opts.bookmarkOf) : opts.discovery.selected) {
    if (ref.raw !== null) yield { ref, raw: ref.raw };
    else missing.push(ref);
  }
  if (missing.length === 0) return;

  const withBookmark = missing.filter((r) => opts.bookmarkOf(r.id) !== null);
  const without = missing.filter((r) => opts.bookmarkOf(r.id) === null);
  if (opts.leastRecentFirst === true) yield* fetchEach(opts.client, without);
  if (withBookmark.length > 0) {
    const since = withBookmark.map((r) => opts.bookmarkOf(r.id) ?? '').reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
    const byId = new Map(withBookmark.map((r) => [r.id, r]));
    const query = { membership: true, order_by: 'updated_at', sort: 'asc', updated_after: since, per_page: opts.pageSize };
    for await (const page of offsetPages(opts.client, '/projects', query)) {
      for (const raw of page.items) {
        const p = toProjectSummary(raw);
        const ref = byId.get(p.id);
        if (ref) yield { ref: { ...ref, path_with_namespace: p.path_with_namespace }, raw };
      }
    }
  }
  if (opts.leastRecentFirst !== true) yield* fetchEach(opts.client, without);
}

/** Refs ordered by their bookmark: none first, then oldest; ties keep their order. */
export function leastRecentFirst<T extends { id: number }>(refs: readonly T[], bookmarkOf: (id: number) => string | null): T[] {
  const keyed = refs.map((ref) => ({ ref, at: bookmarkOf(ref.id) }));
  keyed.sort((a, b) => (a.at === null ? (b.at === null ? 0 : -1) : b.at === null ? 1 : compareTimestamps(a.at, b.at)));
  return keyed.map((k) => k.ref);
}

/** Each project fetched by id (cached projects without a bookmark: the updated_after listing cannot find them). */
async function* fetchEach(client: GitLabClient, refs: readonly ProjectRef[]): AsyncGenerator<ProjectSource> {
  for (const ref of refs) {
    try {
      const res = await client.get(`/projects/${ref.id}`);
      yield { ref, raw: res.body };
    } catch (err) {
      // A cached project deleted or hidden since: its merge requests will report it; nothing to emit.
      if (err instanceof GitLabHttpError && err.refusesResource) continue;
      throw err;
    }
  }
}
