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
import { compareTimestamps } from './time.js';
import type { Logger } from './log.js';
import { runWorkers } from './pool.js';
import { ProjectScan, type ScanRange } from './scan-ranges.js';
import { STREAMS, projectRecord, type StreamName, type StreamSelection } from './singer/catalog.js';
import { getBookmark, getBookmarkIds, setBookmark, type TapState } from './singer/state.js';
import type { SingerWriter } from './singer/writer.js';
import { mapMergeRequest, type MergeRequestRecord } from './streams/merge-requests-schema.js';
import { leastRecentFirst, readProjects } from './streams/projects.js';
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
  return compareTimestamps(a, b) >= 0 ? a : b;
}

function minusMinutes(ts: string | null, minutes: number): string | null {
  if (ts === null || minutes <= 0) return ts;
  return new Date(Date.parse(ts) - minutes * 60_000).toISOString();
}

/** Mutable run context shared by the stream readers of one run. */
class Run {
  state: TapState;
  stop: StopReason | null = null;
  /**
   * What max_records_per_sync counts: project records, and merge requests new to their project's
   * bookmark (read, whether emitted or only scanned for users). Not counted: merge requests read
   * again at or before the bookmark (lookback_minutes), and users, which every run emits again for
   * what it reads: counting them would spend the budget, run after run, on the same work.
   */
  budgetUsed = 0;
  /** Set where max_records_per_sync left work for a next run (a run that ends exactly at the limit is complete). */
  cutShort = false;
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
    return limit === null || this.budgetUsed < limit;
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
    if (stream === 'projects') this.budgetUsed += 1;
  }

  /** A page of records, extracted together: one call, one `time_extracted`. */
  async records(stream: StreamName, recs: Array<Record<string, unknown>>): Promise<void> {
    const sel = this.selected.get(stream);
    if (!sel || recs.length === 0) return;
    await this.opts.writer.writeRecords(stream, sel.fields === null ? recs : recs.map((r) => projectRecord(r, sel)), this.now());
  }

  stateValue(extra: Partial<TapState> = {}): TapState {
    const value: TapState = { ...this.state, ...extra };
    // A run without the users stream keeps the list as it found it: those users are still owed.
    if (this.users) value.users_pending = this.users.pendingEntries();
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
    users.restore(opts.state.users_pending);
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

  // The reader may have gone while the last records were written (found only when a chunk is).
  if (writer.closed) run.stop ??= 'stdout_closed';
  const complete = fatal === null && run.stop === null && !run.cutShort;
  if (run.stop === null && run.cutShort) run.stop = 'max_records';
  const finalExtra: Partial<TapState> = { currently_syncing: null };
  if (complete && run.failed.length === 0) finalExtra.last_sync_completed_at = new Date(startedAt).toISOString();
  await run.checkpoint(finalExtra).catch(() => undefined);
  // A reader gone during that last chunk (users and the final STATE) is told a turn of the event loop later.
  if (run.stop === null) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (writer.closed) run.stop = 'stdout_closed';
  }

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
    leastRecentFirst: run.opts.config.maxRecordsPerSync !== null,
  })) {
    if (!run.budgetLeft) run.cutShort = true;
    if (run.halted || !run.budgetLeft) break;
    const rec = toProjectRecord(raw);
    const bookmark = getBookmark(run.state, 'projects', ref.id);
    const version = rec.updated_at ?? rec.last_activity_at ?? rec.created_at;
    // Compared to the microsecond: a bookmark may carry more digits than Date.parse reads.
    if (bookmark !== null && version !== null && compareTimestamps(version, bookmark) <= 0) continue;
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
/** Pages left in a range below which splitting it would cost more requests than it saves round trips. */
const SPLIT_MIN_PAGES = 5;

/** A range of one project's scan (scan-ranges.ts), read by one worker at a time. */
interface RangeJob {
  project: ProjectRef;
  scan: ProjectScan;
  range: ScanRange;
  /**
   * Where this project's bookmark stood when the run started: the later of the stored bookmark and
   * the start cursor. A budget stop needs progress past it, or the next run starts where this one did
   * (lookback_minutes starts the scan before the bookmark, and a bookmark never moves back).
   */
  progressFrom: string | null;
  /** The ids the stored bookmark lists at `progressFrom` (rows at it with other ids are new). */
  progressIds: ReadonlySet<number>;
}

type Job = { project: ProjectRef } | RangeJob;

/** What the readers of one syncMergeRequests call share. */
interface ScanContext {
  cursorStream: 'merge_requests' | 'users';
  /**
   * max_records_per_sync is set: a run may stop after any page, and every record it emits must move
   * its bookmark, so no range is split and no page is asked ahead.
   */
  budgeted: boolean;
  /** Ranges being read now (the ones an idle worker may split). */
  reading: Set<RangeJob>;
  /** Projects given up this run (403/404): their other ranges stop. */
  abandoned: Set<number>;
  /** Called after every page and every finished job: wakes workers waiting for work. */
  changed: () => void;
  /** Some page of this run moved a project's bookmark past where it stood (see take() in syncMergeRequests). */
  moved: boolean;
}

/**
 * Merge requests (and the users they reference), up to max_concurrency requests at a time:
 * 1. the first page of every project, in order; a project with at least LARGE_PROJECT_ROWS more
 *    (by GitLab's X-Total) goes on at once, the others are set aside;
 * 2. then the set-aside projects, largest first (each resumes exactly where it stopped, cursor and
 *    ids at it, as a next run would, so no request is repeated);
 * 3. then, while a worker would otherwise sit idle, the range with the most rows left is split in
 *    two and the idle worker reads the later half. A scan is sequential, so without this a large
 *    project read alone at the end is a chain of round trips while the other workers wait.
 * With max_records_per_sync no range is split: every record a run emits must move its bookmark,
 * so that each chunked run makes progress.
 */
async function syncMergeRequests(run: Run, client: GitLabClient, listed: ProjectRef[]): Promise<void> {
  const { config } = run.opts;
  const emitMrs = run.selected.has('merge_requests');
  // Users-only runs keep their own cursor so that merge request bookmarks never move without records.
  const cursorStream = emitMrs ? 'merge_requests' : 'users';
  // With max_records_per_sync the projects whose scans stand furthest behind go first: in listing order, projects
  // that gain rows before every run would spend each run's budget and the later ones would never be read.
  const projects = config.maxRecordsPerSync === null ? listed : leastRecentFirst(listed, (id) => getBookmark(run.state, cursorStream, id));
  run.state = { ...run.state, currently_syncing: emitMrs ? 'merge_requests' : 'users' };

  let wake: (() => void) | null = null;
  let woken: Promise<void> | null = null;
  const ctx: ScanContext = {
    cursorStream,
    budgeted: config.maxRecordsPerSync !== null,
    reading: new Set(),
    abandoned: new Set(),
    moved: false,
    changed: () => {
      const w = wake;
      wake = null;
      woken = null;
      w?.();
    },
  };
  const nextChange = (): Promise<void> =>
    (woken ??= new Promise<void>((resolve) => {
      wake = resolve;
    }));

  let nextProject = 0;
  const setAside: RangeJob[] = [];
  let running = 0;
  const rowsLeft = (job: RangeJob): number => job.range.remaining ?? Number.POSITIVE_INFINITY;

  /** Splits the range with the most rows left (that is worth it) and returns its later half. */
  const steal = (): RangeJob | null => {
    const candidates = [...ctx.reading].filter((j) => j.range.read && rowsLeft(j) >= SPLIT_MIN_PAGES * config.pageSize);
    candidates.sort((a, b) => rowsLeft(b) - rowsLeft(a));
    // The far end of the last range: a time GitLab's own clock has reached (see ProjectScan.split).
    const server = client.serverTimeMs;
    const horizonMs = server === null ? null : server - 1000;
    for (const job of candidates) {
      const left = job.range.remaining;
      const later = job.scan.split(job.range, horizonMs);
      if (later === null) continue;
      run.opts.logger.debug(`Splitting the merge request scan of ${job.project.path_with_namespace} at ${String(later.cursor)} (${left ?? 'more than 10,000'} rows left): a second worker reads the later half.`);
      return { ...job, range: later };
    }
    return null;
  };

  const next = (): Job | null => {
    if (nextProject < projects.length) return { project: projects[nextProject++] as ProjectRef };
    if (setAside.length > 0) {
      let best = 0;
      setAside.forEach((job, i) => {
        if (rowsLeft(job) > rowsLeft(setAside[best] as RangeJob)) best = i;
      });
      return setAside.splice(best, 1)[0] as RangeJob;
    }
    return ctx.budgeted ? null : steal();
  };
  /** A set-aside project whose bookmark has not moved yet (lookback re-reads, say): out of budget, it still goes on. */
  const unmovedSetAside = (): RangeJob | null => {
    const i = setAside.findIndex((j) => j.progressFrom !== null && j.range.cursor !== null && Date.parse(j.range.cursor) <= Date.parse(j.progressFrom));
    return i < 0 ? null : (setAside.splice(i, 1)[0] as RangeJob);
  };
  // Set when a job fails: a worker waiting in take() must then end, not start another job.
  let failed = false;
  /** The next job; waits while none is ready but a job still running may make one. */
  const take = async (): Promise<Job | null> => {
    for (;;) {
      if (failed || run.halted) return null;
      // Out of budget, scans still start (furthest behind first) until one of this run's pages has moved a bookmark,
      // so that every run makes progress even when the projects stream spent the budget; after that only the
      // set-aside projects that have not moved yet go on, or the others would leave them where they were, run after run.
      const job = run.budgetLeft || !ctx.moved ? next() : unmovedSetAside();
      if (job === null && !run.budgetLeft) {
        if (nextProject < projects.length || setAside.length > 0) run.cutShort = true;
        if (running === 0) return null;
      }
      if (job !== null) {
        running += 1;
        return job;
      }
      if (running === 0) return null;
      await nextChange();
    }
  };

  await runWorkers(config.concurrency, take, async (job) => {
    try {
      if ('scan' in job) {
        await readRange(run, client, ctx, job, Number.POSITIVE_INFINITY);
        return;
      }
      const { project } = job;
      const bookmark = getBookmark(run.state, cursorStream, project.id);
      const startCursor = later(minusMinutes(bookmark, config.lookbackMinutes), config.startDate);
      // Rows already emitted at the bookmark are skipped only when the scan starts exactly there.
      const seen = startCursor !== null && startCursor === bookmark ? getBookmarkIds(run.state, cursorStream, project.id) : [];
      const scan = new ProjectScan(startCursor, seen);
      const progressFrom = later(bookmark, startCursor);
      const progressIds = progressFrom !== null && progressFrom === bookmark ? getBookmarkIds(run.state, cursorStream, project.id) : [];
      const first: RangeJob = { project, scan, range: scan.ranges[0] as ScanRange, progressFrom, progressIds: new Set(progressIds) };
      if (!(await readRange(run, client, ctx, first, 1))) return;
      if (rowsLeft(first) >= LARGE_PROJECT_ROWS) await readRange(run, client, ctx, first, Number.POSITIVE_INFINITY);
      else setAside.push(first);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      running -= 1;
      ctx.changed();
    }
  });
}

/**
 * Reads up to `maxPages` pages of one range of a project's merge requests, writing records, users
 * and a STATE per page. True when it stopped after `maxPages` with more to read; false when the
 * range is done, the project is skipped, or the run is stopping.
 */
async function readRange(run: Run, client: GitLabClient, ctx: ScanContext, job: RangeJob, maxPages: number): Promise<boolean> {
  const { config } = run.opts;
  const { project, scan, range, progressFrom, progressIds } = job;
  const progressMs = progressFrom === null ? null : Date.parse(progressFrom);
  const { cursorStream } = ctx;
  const emitMrs = cursorStream === 'merge_requests';
  const writeUser = (u: Record<string, unknown>): Promise<void> => run.record('users', u);
  const saveBookmark = (): void => {
    const bm = scan.bookmark();
    if (bm !== null) run.state = setBookmark(run.state, cursorStream, project.id, bm.cursor, bm.ids);
  };
  if (ctx.abandoned.has(project.id)) return false;
  ctx.reading.add(job);
  let pages = 0;
  try {
    for await (const page of seekPages<MergeRequestRecord & { id: number; updated_at: string }>(client, `/projects/${project.id}/merge_requests`, {
      query: { scope: 'all', state: 'all' },
      updatedAfter: range.cursor,
      pageSize: config.pageSize,
      seenAtCursor: range.seen,
      until: () => range.until,
      // The next page's round trip overlaps this page's records, unless the run may stop after this page.
      prefetch: () => !ctx.budgeted && pages + 1 < maxPages && !run.halted,
    })) {
      const split = scan.hasBoundaries;
      const records: MergeRequestRecord[] = [];
      let fresh = 0;
      const claimed: number[] = [];
      for (const raw of page.items) {
        const at = split || ctx.budgeted ? Date.parse(raw.updated_at) : 0;
        // A row exactly at a split point is read by the ranges on both sides: emit it once.
        if (split) {
          if (!scan.claim(raw.id, at)) continue;
          claimed.push(raw.id);
        }
        const { record, users } = mapMergeRequest(raw);
        if (emitMrs) records.push(record);
        if (ctx.budgeted && (progressMs === null || at > progressMs || (at === progressMs && !progressIds.has(raw.id)))) fresh += 1;
        run.users?.add(users);
      }
      await run.records('merge_requests', records);
      run.budgetUsed += fresh;
      scan.commit(claimed);
      // Full batches are looked up in the background; this waits only when far behind.
      if (run.users) await run.users.flushSoon(writeUser);
      scan.advance(range, page.cursor, page.idsAtCursor, page.remaining);
      if (page.final && scan.finish(range)) run.projectsSynced += 1;
      saveBookmark();
      await run.checkpoint();
      ctx.changed();
      if (run.halted) return false;
      // Out of budget: stop here if this project's bookmark has moved past where it stood (so the next run progresses).
      const moved = page.cursor !== null && (progressMs === null || Date.parse(page.cursor) > progressMs);
      if (moved) ctx.moved = true;
      if (!run.budgetLeft && moved) {
        if (!page.final) run.cutShort = true;
        return false;
      }
      pages += 1;
      if (pages >= maxPages && !page.final) return true;
    }
    if (scan.finish(range)) run.projectsSynced += 1;
    saveBookmark();
    return false;
  } catch (err) {
    const ownError = err !== run.users?.failure;
    // A 403 for a missing scope is the token's, not this project's (refusesResource): it stops the run.
    if (ownError && err instanceof GitLabHttpError && err.refusesResource) {
      if (ctx.abandoned.has(project.id)) return false;
      ctx.abandoned.add(project.id);
      if (project.configured) {
        run.failed.push({ ref: project.path_with_namespace, message: err.message });
        run.opts.logger.error(`Configured project ${project.path_with_namespace}: ${err.message}`);
      } else {
        const reason = err.status === 403 ? 'merge requests forbidden (403)' : 'not found (404)';
        run.skipped.push({ id: project.id, path_with_namespace: project.path_with_namespace, reason });
        run.opts.logger.warn(`Skipping project ${project.path_with_namespace}: ${reason}.`);
      }
      return false;
    }
    if (err instanceof TapError) run.stop ??= 'error';
    throw err;
  } finally {
    ctx.reading.delete(job);
  }
}
