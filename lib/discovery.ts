/**
 * Which projects a run covers.
 * - Static: `gitlab_project_ids` (ids or `group/project` paths), each fetched once; a missing or
 *   forbidden one is reported as failed (the run goes on, then exits 1).
 * - Discovery: the projects the token is a member of (keyset listing, `per_page=100`), matched
 *   with the name patterns, without private / archived / pending-deletion ones unless asked,
 *   capped by `max_projects_to_sync` in ascending id order (the oldest projects win, every run).
 * The discovered id list is cached in the state for `discovery_cache_minutes`.
 */
import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Clock } from './clock.js';
import type { TapConfig } from './config.js';
import { GitLabHttpError, type TapError } from './errors.js';
import type { GitLabClient, Query } from './gitlab/client.js';
import { keysetPages } from './gitlab/pagination.js';
import { isPendingDeletion, toProjectSummary, type ProjectSummary } from './gitlab-project.js';
import type { Logger } from './log.js';
import { matchProject, parsePatterns, searchHint } from './project-patterns.js';
import type { TapState } from './singer/state.js';

export interface ProjectRef {
  id: number;
  path_with_namespace: string;
  /** Named in gitlab_project_ids: errors on it are the user's to see. */
  configured: boolean;
  /** The project entity as listed or fetched this run; null when it came from the cache. */
  raw: unknown;
  reason: string;
}

export interface ExcludedProject {
  id: number | null;
  path_with_namespace: string;
  reason: string;
}

export interface FailedProject {
  ref: string;
  error: TapError;
}

export interface DiscoveryCache {
  readonly fingerprint: string;
  readonly listed_at: string;
  readonly project_ids: readonly number[];
  readonly project_paths?: readonly string[];
}

export interface DiscoveryResult {
  selected: ProjectRef[];
  excluded: ExcludedProject[];
  failed: FailedProject[];
  /** True when a listing ran this run (so every discovered ref has its raw entity). */
  listed: boolean;
  /** What to keep in state.discovery (unchanged on a cache hit). */
  cache: DiscoveryCache | undefined;
  requests: number;
}

export interface DiscoveryContext {
  config: TapConfig;
  client: GitLabClient;
  logger: Logger;
  state: TapState;
  clock: Clock;
  /** Ignore the cache and list without `search` (used by --list-projects). */
  fresh?: boolean;
}

const CacheSchema = Type.Object({
  fingerprint: Type.String(),
  listed_at: Type.String(),
  project_ids: Type.Array(Type.Integer()),
  project_paths: Type.Optional(Type.Array(Type.String())),
});
const checkCache = Compile(CacheSchema);

/**
 * Identifies the discovery settings and the token (another token may be a member of other
 * projects); a change of any of them invalidates the cache. Only this hash of them is stored.
 */
export function discoveryFingerprint(config: TapConfig): string {
  const basis = JSON.stringify({
    token: config.token,
    base: config.baseUrl,
    patterns: config.projectNamePatterns,
    private: config.includePrivateProjects,
    archived: config.includeArchivedProjects,
    max: config.maxProjectsToSync,
  });
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

function cachedSelection(ctx: DiscoveryContext): DiscoveryCache | null {
  if (ctx.fresh || ctx.config.discoveryCacheMinutes <= 0) return null;
  const cache: unknown = ctx.state.discovery;
  if (!checkCache.Check(cache)) return null;
  if (cache.fingerprint !== discoveryFingerprint(ctx.config)) {
    ctx.logger.info('Discovery settings changed since the last run: listing projects again.');
    return null;
  }
  const age = ctx.clock.now() - Date.parse(cache.listed_at);
  if (!(age >= 0 && age < ctx.config.discoveryCacheMinutes * 60_000)) return null;
  return cache;
}

/**
 * The member-project listing. `narrow` adds GitLab's `search` (a superset of what the patterns
 * match); `--list-projects` lists without it so that every other project gets its reason too.
 */
export function listingQuery(config: TapConfig, narrow = true): Query {
  const query: Query = { membership: true, order_by: 'id', sort: 'asc', per_page: config.pageSize };
  if (!config.includeArchivedProjects) query.archived = false;
  const hint = narrow ? searchHint(parsePatterns(config.projectNamePatterns)) : null;
  if (hint !== null) query.search = hint;
  return query;
}

/** Lists and filters the member projects. Keeps the raw entity of every selected project. */
async function listAndMatch(ctx: DiscoveryContext): Promise<{ selected: ProjectRef[]; excluded: ExcludedProject[]; requests: number }> {
  const { config } = ctx;
  const set = parsePatterns(config.projectNamePatterns);
  const selected: ProjectRef[] = [];
  const excluded: ExcludedProject[] = [];
  let requests = 0;
  for await (const page of keysetPages(ctx.client, '/projects', listingQuery(config, ctx.fresh !== true))) {
    requests += 1;
    for (const raw of page.items) {
      const p: ProjectSummary = toProjectSummary(raw);
      const why = exclusionReason(p, ctx.config, set);
      if (why !== null) {
        excluded.push({ id: p.id, path_with_namespace: p.path_with_namespace, reason: why });
        continue;
      }
      const { by } = matchProject(p, set);
      selected.push({ id: p.id, path_with_namespace: p.path_with_namespace, configured: false, raw, reason: `matches ${by}` });
    }
  }
  selected.sort((a, b) => a.id - b.id);
  const cap = config.maxProjectsToSync;
  if (cap !== null && selected.length > cap) {
    for (const over of selected.splice(cap)) {
      excluded.push({ id: over.id, path_with_namespace: over.path_with_namespace, reason: `over max_projects_to_sync (${cap}; lowest ids kept)` });
    }
  }
  return { selected, excluded, requests };
}

function exclusionReason(p: ProjectSummary, config: TapConfig, set: ReturnType<typeof parsePatterns>): string | null {
  const m = matchProject(p, set);
  if (!m.matched) return m.by.startsWith('!') ? `excluded by ${m.by}` : `does not match ${m.by}`;
  if (!config.includePrivateProjects && p.visibility !== 'public') return `${p.visibility ?? 'not public'} (include_private_projects is false)`;
  if (!config.includeArchivedProjects && p.archived === true) return 'archived (include_archived_projects is false)';
  if (!config.includeArchivedProjects && isPendingDeletion(p)) return 'pending deletion';
  return null;
}

/** Fetches each configured project once; 403/404 become failures named by the user's own reference. */
async function fetchConfigured(ctx: DiscoveryContext): Promise<{ selected: ProjectRef[]; failed: FailedProject[]; requests: number }> {
  const refs = ctx.config.projectIds;
  const results = await Promise.all(
    refs.map(async (ref) => {
      const path = `/projects/${encodeURIComponent(String(ref))}`;
      try {
        const res = await ctx.client.get(path);
        const p = toProjectSummary(res.body);
        return { ok: { id: p.id, path_with_namespace: p.path_with_namespace, configured: true, raw: res.body, reason: `listed in gitlab_project_ids as ${String(ref)}` } };
      } catch (err) {
        if (err instanceof GitLabHttpError && err.refusesResource) {
          return { failed: { ref: String(ref), error: err } };
        }
        throw err;
      }
    }),
  );
  const selected: ProjectRef[] = [];
  const failed: FailedProject[] = [];
  const seen = new Set<number>();
  for (const r of results) {
    if (r.failed) failed.push(r.failed);
    else if (r.ok && !seen.has(r.ok.id)) {
      seen.add(r.ok.id);
      selected.push(r.ok);
    }
  }
  return { selected, failed, requests: refs.length };
}

/** Decides the projects of this run. */
export async function discoverProjects(ctx: DiscoveryContext): Promise<DiscoveryResult> {
  const { config } = ctx;
  const out: DiscoveryResult = { selected: [], excluded: [], failed: [], listed: false, cache: undefined, requests: 0 };

  if (config.projectIds.length > 0) {
    const stat = await fetchConfigured(ctx);
    out.selected.push(...stat.selected);
    out.failed.push(...stat.failed);
    out.requests += stat.requests;
  }

  if (config.autoDiscoverProjects) {
    const cached = cachedSelection(ctx);
    if (cached) {
      ctx.logger.info(`Using the project list discovered at ${cached.listed_at} (${cached.project_ids.length} projects; cached for ${config.discoveryCacheMinutes} min).`);
      out.cache = cached;
      const known = new Set(out.selected.map((p) => p.id));
      cached.project_ids.forEach((id, i) => {
        if (known.has(id)) return;
        out.selected.push({ id, path_with_namespace: cached.project_paths?.[i] ?? `#${id}`, configured: false, raw: null, reason: 'cached discovery' });
      });
    } else {
      const listed = await listAndMatch(ctx);
      out.listed = true;
      out.requests += listed.requests;
      out.excluded.push(...listed.excluded);
      const known = new Set(out.selected.map((p) => p.id));
      for (const p of listed.selected) if (!known.has(p.id)) out.selected.push(p);
      // Frozen: it goes into every STATE of the run, and frozen parts are serialised once (state-json.ts).
      out.cache = Object.freeze({
        fingerprint: discoveryFingerprint(config),
        listed_at: new Date(ctx.clock.now()).toISOString(),
        project_ids: Object.freeze(listed.selected.map((p) => p.id)),
        project_paths: Object.freeze(listed.selected.map((p) => p.path_with_namespace)),
      });
      ctx.logger.info(`Discovered ${listed.selected.length} projects (${listed.excluded.length} left out) in ${listed.requests} listing requests.`);
    }
  }
  return out;
}

/** For `--list-projects`: a fresh listing with the reason for each decision. */
export async function listProjects(ctx: DiscoveryContext): Promise<{
  selected: Array<{ id: number; path_with_namespace: string; reason: string }>;
  excluded: Array<{ id: number | null; path_with_namespace: string; reason: string }>;
}> {
  const res = await discoverProjects({ ...ctx, fresh: true });
  return {
    selected: res.selected.map(({ id, path_with_namespace, reason }) => ({ id, path_with_namespace, reason })),
    excluded: [
      ...res.failed.map((f) => ({ id: null, path_with_namespace: f.ref, reason: f.error.message })),
      ...res.excluded,
    ],
  };
}
