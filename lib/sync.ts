/**
 * A sync run: SCHEMA for every selected stream, then projects, then merge requests (per project,
 * concurrently, bounded), with the users they reference emitted in batches as they come.
 *
 * Checkpoints: a STATE follows every page of work and closes the run. A bookmark moves only after
 * the records it covers are written, so the last STATE line printed is always safe to resume
 * from (kill -9 included): at worst some records are emitted twice, never lost.
 */
import type { Clock } from './clock.js';
import type { TapConfig } from './config.js';
import { discoverProjects, type DiscoveryResult, type ProjectRef } from './discovery.js';
import { GitLabHttpError, InterruptedError, ProjectsFailedError, TapError } from './errors.js';
import { clientForConfig } from './client-for-config.js';
import type { GitLabClient } from './gitlab/client.js';
import { seekPages } from './gitlab/pagination.js';
import type { Logger } from './log.js';
import { runWorkers } from './pool.js';
import { STREAMS, projectRecord, type StreamName, type StreamSelection } from './singer/catalog.js';
import { getBookmark, getBookmarkIds, setBookmark, type TapState } from './singer/state.js';
import type { SingerWriter } from './singer/writer.js';
import { mapMergeRequest, type MergeRequestRecord } from './streams/merge-requests-schema.js';
import { readProjects } from './streams/projects.js';
import { toProjectRecord } from './streams/projects-schema.js';
import { UserCollector } from './streams/users.js';
import { formatSummary, type RunSummary, type SkippedProject } from './summary.js';

export type { RunSummary } from './summary.js';

export interface SyncOptions {
  config: TapConfig;
  state: TapState;
  selections: StreamSelection[];
  writer: SingerWriter;
  logger: Logger;
  fetch: typeof fetch;
  clock: Clock;
  signal: AbortSignal;
}

type StopReason = RunSummary['stoppedBy'];

/** Later of two timestamps (null counts as "no bound"). */
function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function minusMinutes(ts: string | null, minutes: number): string | null {
  if (ts === null || minutes <= 0) return ts;
  return new Date(Date.parse(ts) - minutes * 60_000).toISOString();
}

/** Mutable run context shared by the stream readers of one run. */
class Run {
  state: TapState;
  stop: StopReason | null = null;
  recordsWritten = 0;
  readonly skipped: SkippedProject[] = [];
  readonly failed: Array<{ ref: string; message: string }> = [];
  projectsSynced = 0;

  constructor(
    readonly opts: SyncOptions,
    readonly selected: Map<StreamName, StreamSelection>,
    readonly users: UserCollector | null,
  ) {
    this.state = opts.state;
  }

  get budgetLeft(): boolean {
    const limit = this.opts.config.maxRecordsPerSync;
    return limit === null || this.recordsWritten < limit;
  }

  /** True when no new unit of work should start. */
  get halted(): boolean {
    if (this.stop !== null) return true;
    if (this.opts.writer.closed) {
      this.stop = 'stdout_closed';
      return true;
    }
    if (this.opts.signal.aborted) {
      this.stop = 'signal';
      return true;
    }
    return false;
  }

  now(): Date {
    return new Date(this.opts.clock.now());
  }

  async record(stream: StreamName, rec: Record<string, unknown>): Promise<void> {
    const sel = this.selected.get(stream);
    if (!sel) return;
    await this.opts.writer.writeRecord(stream, projectRecord(rec, sel), this.now());
    this.recordsWritten += 1;
  }

  stateValue(extra: Partial<TapState> = {}): TapState {
    const value: TapState = { ...this.state, ...extra };
    if (this.users) value.users_pending = this.users.pendingIds();
    else delete value.users_pending;
    return value;
  }

  async checkpoint(extra: Partial<TapState> = {}): Promise<void> {
    if (this.opts.writer.closed) return;
    await this.opts.writer.writeState(this.stateValue(extra));
  }
}

/** Runs one sync and returns its summary; throws TapErrors for fatal problems after a safe STATE. */
export async function runSync(opts: SyncOptions): Promise<RunSummary> {
  const { config, logger, clock, writer } = opts;
  const startedAt = clock.now();
  const selected = new Map(opts.selections.map((s) => [s.stream, s] as const));

  // The interval guard: too early → the unchanged state, exit 0.
  const last = typeof opts.state.last_sync_completed_at === 'string' ? Date.parse(opts.state.last_sync_completed_at) : NaN;
  if (config.syncIntervalHours > 0 && Number.isFinite(last) && startedAt - last < config.syncIntervalHours * 3_600_000) {
    const nextAt = new Date(last + config.syncIntervalHours * 3_600_000).toISOString();
    logger.info(`Skipping this sync: the last one completed at ${new Date(last).toISOString()} and sync_interval_hours is ${config.syncIntervalHours}; the next sync may start at ${nextAt}.`);
    await writer.writeState(opts.state);
    return emptySummary('interval', startedAt, clock);
  }

  for (const sel of opts.selections) {
    const def = STREAMS.find((d) => d.name === sel.stream);
    if (!def) continue;
    await writer.writeSchema(sel.stream, sel.schema, def.keyProperties, def.replicationKey ? [def.replicationKey] : undefined);
  }

  const client = clientForConfig(config, { fetch: opts.fetch, clock, logger, signal: opts.signal });

  const users = selected.has('users') ? new UserCollector({ client, mode: config.userEnrichment, logger }) : null;
  if (users && Array.isArray(opts.state.users_pending)) {
    users.restore(opts.state.users_pending.filter((x): x is number => Number.isInteger(x)));
  }
  const run = new Run(opts, selected, users);
  let fatal: unknown = null;

  try {
    const discovery = await discoverProjects({ config, client, logger, state: opts.state, clock });
    if (discovery.cache) run.state = { ...run.state, discovery: discovery.cache };
    for (const f of discovery.failed) {
      run.failed.push({ ref: f.ref, message: f.error.message });
      logger.error(`Configured project ${f.ref}: ${f.error.message}`);
    }
    if (discovery.selected.length === 0) logger.warn('No project matched the configuration: nothing to sync. Run with --list-projects to see why.');

    if (selected.has('projects')) await syncProjects(run, client, discovery);
    if (selected.has('merge_requests') || users) await syncMergeRequests(run, client, discovery.selected);
    if (users) await users.settle();
    if (users && !run.halted) {
      await users.flush((u) => run.record('users', u), { all: true });
    }
  } catch (err) {
    // No user lookup may still be writing when the last STATE is printed.
    await users?.settle().catch(() => undefined);
    fatal = err;
    if (isAbort(err) && opts.signal.aborted) {
      fatal = null;
      run.stop = 'signal';
    }
  }

  const complete = fatal === null && run.stop === null && run.budgetLeft;
  if (run.stop === null && !run.budgetLeft) run.stop = 'max_records';
  const finalExtra: Partial<TapState> = { currently_syncing: null };
  if (complete && run.failed.length === 0) finalExtra.last_sync_completed_at = new Date(startedAt).toISOString();
  await run.checkpoint(finalExtra).catch(() => undefined);

  const summary: RunSummary = {
    exitCode: fatal !== null || run.failed.length > 0 || run.stop === 'signal' ? 1 : 0,
    stoppedBy: run.stop ?? (fatal !== null ? 'error' : 'complete'),
    projectsSynced: run.projectsSynced,
    skipped: run.skipped,
    failed: run.failed,
    records: { ...writer.counts },
    requests: client.metrics.requests,
    retries: client.metrics.retries,
    rateLimited: client.metrics.rateLimited,
    durationMs: clock.now() - startedAt,
  };
  for (const line of formatSummary(summary)) logger.info(line);

  if (fatal !== null) throw fatal;
  if (run.stop === 'signal') throw new InterruptedError('a signal');
  if (run.failed.length > 0) {
    throw new ProjectsFailedError(
      `${run.failed.length} configured project(s) could not be read: ${run.failed.map((f) => f.ref).join(', ')}. Check gitlab_project_ids and the token's access; the other projects were synced.`,
    );
  }
  return summary;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function emptySummary(stoppedBy: StopReason, startedAt: number, clock: Clock): RunSummary {
  return { exitCode: 0, stoppedBy, projectsSynced: 0, skipped: [], failed: [], records: {}, requests: 0, retries: 0, rateLimited: 0, durationMs: clock.now() - startedAt };
}

/** Projects: emitted when new to the bookmark or updated since; STATE every 100 projects and at the end. */
async function syncProjects(run: Run, client: GitLabClient, discovery: DiscoveryResult): Promise<void> {
  run.state = { ...run.state, currently_syncing: 'projects' };
  let sinceCheckpoint = 0;
  for await (const { ref, raw } of readProjects({
    client,
    discovery,
    pageSize: run.opts.config.pageSize,
    bookmarkOf: (id) => getBookmark(run.state, 'projects', id),
  })) {
    if (run.halted || !run.budgetLeft) break;
    const rec = toProjectRecord(raw);
    const bookmark = getBookmark(run.state, 'projects', ref.id);
    const version = rec.updated_at ?? rec.last_activity_at ?? rec.created_at;
    if (bookmark !== null && version !== null && Date.parse(version) <= Date.parse(bookmark)) continue;
    await run.record('projects', rec);
    if (version !== null) run.state = setBookmark(run.state, 'projects', ref.id, version);
    if (++sinceCheckpoint >= 100) {
      sinceCheckpoint = 0;
      await run.checkpoint();
    }
  }
  await run.checkpoint();
}

/** Merge requests left after the first page above which a project's scan goes on at once (see syncMergeRequests). */
const LARGE_PROJECT_ROWS = 1000;

/** Where a project's merge request scan goes on from, and where this run started it. */
interface ProjectScan {
  project: ProjectRef;
  cursor: string | null;
  seen: readonly number[];
  /** The cursor the run started this project at (a budget stop needs progress past it). */
  startCursor: string | null;
  /** Rows still ahead by GitLab's X-Total (null: unknown, e.g. more than 10,000). */
  remaining: number | null;
}

/**
 * Merge requests (and the users they reference), up to max_concurrency projects at a time. First
 * the first page of every project; a project with at least LARGE_PROJECT_ROWS more (by GitLab's
 * X-Total) goes on at once, the others wait until every first page is read and then go on largest
 * first. A scan is sequential (each page's cursor comes from the one before), so a large project
 * that happened to start last would run alone at the end; this way it overlaps with the rest. A
 * scan that waited resumes exactly where it stopped (cursor and ids at it, as a next run would), so
 * no request is repeated.
 */
async function syncMergeRequests(run: Run, client: GitLabClient, projects: ProjectRef[]): Promise<void> {
  const { config } = run.opts;
  const emitMrs = run.selected.has('merge_requests');
  // Users-only runs keep their own cursor so that merge request bookmarks never move without records.
  const cursorStream = emitMrs ? 'merge_requests' : 'users';
  run.state = { ...run.state, currently_syncing: emitMrs ? 'merge_requests' : 'users' };

  // Jobs: the first page of each project in order; once those are all taken, the projects with
  // more pages, largest first. A large project goes on at once after its first page.
  let nextProject = 0;
  const more: ProjectScan[] = [];
  const take = (): { project: ProjectRef } | { scan: ProjectScan } | null => {
    if (run.halted || !run.budgetLeft) return null;
    if (nextProject < projects.length) return { project: projects[nextProject++] as ProjectRef };
    if (more.length === 0) return null;
    let best = 0;
    more.forEach((m, i) => {
      if ((m.remaining ?? Number.MAX_SAFE_INTEGER) > ((more[best] as ProjectScan).remaining ?? Number.MAX_SAFE_INTEGER)) best = i;
    });
    return { scan: more.splice(best, 1)[0] as ProjectScan };
  };
  await runWorkers(config.concurrency, take, async (job) => {
    if ('scan' in job) {
      await scanProject(run, client, cursorStream, job.scan, Number.POSITIVE_INFINITY);
      return;
    }
    const { project } = job;
    const bookmark = getBookmark(run.state, cursorStream, project.id);
    const startCursor = later(minusMinutes(bookmark, config.lookbackMinutes), config.startDate);
    // Rows already emitted at the bookmark are skipped only when the scan starts exactly there.
    const seen = startCursor !== null && startCursor === bookmark ? getBookmarkIds(run.state, cursorStream, project.id) : [];
    const left = await scanProject(run, client, cursorStream, { project, cursor: startCursor, seen, startCursor, remaining: null }, 1);
    if (left === null) return;
    if (left.remaining === null || left.remaining >= LARGE_PROJECT_ROWS) await scanProject(run, client, cursorStream, left, Number.POSITIVE_INFINITY);
    else more.push(left);
  });
}

/**
 * Reads up to `maxPages` pages of one project's merge requests from `scan`, writing records, users
 * and a STATE per page. Returns where to go on when it stopped after `maxPages` with more to read;
 * null when the project is done, skipped, or the run is stopping.
 */
async function scanProject(run: Run, client: GitLabClient, cursorStream: 'merge_requests' | 'users', scan: ProjectScan, maxPages: number): Promise<ProjectScan | null> {
  const { config } = run.opts;
  const { project, startCursor } = scan;
  const emitMrs = cursorStream === 'merge_requests';
  const writeUser = (u: Record<string, unknown>): Promise<void> => run.record('users', u);
  let pages = 0;
  try {
    for await (const page of seekPages<MergeRequestRecord & { id: number; updated_at: string }>(client, `/projects/${project.id}/merge_requests`, {
      query: { scope: 'all', state: 'all' },
      updatedAfter: scan.cursor,
      pageSize: config.pageSize,
      seenAtCursor: scan.seen,
    })) {
      for (const raw of page.items) {
        const { record, users } = mapMergeRequest(raw);
        if (emitMrs) await run.record('merge_requests', record);
        run.users?.add(users);
      }
      // Full batches are looked up in the background; this waits only when far behind.
      if (run.users) await run.users.flushSoon(writeUser);
      if (page.cursor !== null) run.state = setBookmark(run.state, cursorStream, project.id, page.cursor, page.idsAtCursor);
      await run.checkpoint();
      if (run.halted) return null;
      // Out of budget: stop here if this project has moved past where it started (so the next run progresses).
      const moved = page.cursor !== null && (startCursor === null || Date.parse(page.cursor) > Date.parse(startCursor));
      if (!run.budgetLeft && moved) return null;
      pages += 1;
      if (pages >= maxPages && !page.final) return { project, cursor: page.cursor, seen: page.idsAtCursor, startCursor, remaining: page.remaining };
    }
    run.projectsSynced += 1;
    return null;
  } catch (err) {
    const ownError = err !== run.users?.failure;
    if (ownError && err instanceof GitLabHttpError && (err.status === 403 || err.status === 404)) {
      if (project.configured) {
        run.failed.push({ ref: project.path_with_namespace, message: err.message });
        run.opts.logger.error(`Configured project ${project.path_with_namespace}: ${err.message}`);
      } else {
        const reason = err.status === 403 ? 'merge requests forbidden (403)' : 'not found (404)';
        run.skipped.push({ id: project.id, path_with_namespace: project.path_with_namespace, reason });
        run.opts.logger.warn(`Skipping project ${project.path_with_namespace}: ${reason}.`);
      }
      return null;
    }
    if (err instanceof TapError) run.stop ??= 'error';
    throw err;
  }
}
