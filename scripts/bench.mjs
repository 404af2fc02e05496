#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench [-- --quick] [-- --only a,c] [-- --profile DIR]`: the built bin/tap-gitlab against the
 * local GitLab simulator (in this process), on fixed scenarios:
 *   a  200 projects / 20,000 merge requests / 2,000 users, 0 ms latency
 *   b  the same at 20 ms latency, max_concurrency 4
 *   c  100,000 merge requests (same projects and users), 0 ms latency
 *   d  an incremental run with no changes after a (from a's last STATE)
 *   e  12 projects, one of them holding a third of the merge requests, 20 ms latency, max_concurrency 4
 * The simulator serialises its whole dataset before the first run (sim.warm()), so that its one-time
 * JSON work does not compete with the tap for this machine's cores; GitLab itself runs elsewhere.
 * For each: records/s end to end (tap stdout piped into a counting sink), requests made (simulator
 * stats) against the lower bound ⌈P/100⌉ + Σ max(1, ⌈m_p/100⌉) + ⌈U/100⌉ (P selected projects,
 * m_p merge requests of project p, U distinct users; the constant is 0: the tap makes no fixed requests), wall time against
 * the latency bound requests × latency ÷ concurrency, and the tap's peak RSS (/usr/bin/time -v, else
 * VmHWM polled from /proc). Prints a table, the goals met or missed, and one JSON line (`BENCH {...}`).
 * --quick divides the sizes by 4. --profile DIR writes a V8 CPU profile of each tap run into DIR.
 * --node-arg=FLAG passes a flag to the tap's node (repeatable). --bin PATH measures another build of the tap (e.g. a patched copy) against the same scenarios.
 * --repeat N runs each scenario N times and reports the median: the run of median wall time, median CPU and peak RSS, and the spread.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../test/simulator/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const binArg = process.argv.indexOf('--bin');
/** The tap to measure: this checkout's bin/tap-gitlab, or another build with --bin PATH (A/B comparisons). */
const BIN = binArg >= 0 ? resolve(String(process.argv[binArg + 1])) : join(ROOT, 'bin', 'tap-gitlab');
const TIME = '/usr/bin/time';
const RECORD = Buffer.from('{"type":"RECORD"');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(String(argv[onlyArg + 1] ?? '').split(',')) : null;
const profArg = argv.indexOf('--profile');
const profileDir = profArg >= 0 ? resolve(String(argv[profArg + 1] ?? 'bench-profiles')) : null;
const scale = quick ? 0.25 : 1;
/** Extra node flags for the tap process (repeatable --node-arg, e.g. --node-arg=--max-semi-space-size=4). */
const extraNodeArgs = argv.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length));
const repeatArg = argv.indexOf('--repeat');
/** Runs per scenario (--repeat N): this machine's wall times vary by ±15% from run to run, so compare medians. */
const repeat = repeatArg >= 0 ? Math.max(1, Math.floor(Number(argv[repeatArg + 1]) || 1)) : 1;

/**
 * @typedef {{ records: number, distinctRecords: number, keys: Set<string>, lines: number, bytes: number, wallMs: number, cpuMs: number | null, code: number | null, peakRssKb: number | null, stderr: string, lastState: unknown }} TapRun
 */

/**
 * Runs the tap with stdout piped into a counting sink; keeps only the last STATE line.
 * @param {string[]} args
 * @returns {Promise<TapRun>}
 */
function runTap(args) {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    for (const k of Object.keys(env)) if (k.startsWith('TAP_GITLAB_')) delete env[k];
    const nodeArgs = [...extraNodeArgs, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
    const useTime = existsSync(TIME);
    const [cmd, cmdArgs] = useTime ? [TIME, ['-v', process.execPath, ...nodeArgs, BIN, ...args]] : [process.execPath, [...nodeArgs, BIN, ...args]];
    const started = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let records = 0;
    let lines = 0;
    let bytes = 0;
    let tail = Buffer.alloc(0);
    /** @type {Buffer[]} */
    const err = [];
    let hwmKb = 0;
    const poll = useTime
      ? null
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20);
    child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
      bytes += chunk.length;
      // Count lines and RECORD lines without parsing; keep the text after the last newline for the next chunk.
      const buf = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        lines++;
        if (buf.subarray(start, start + RECORD.length).equals(RECORD)) {
          records++;
          // The line's start (stream, time, the record's first key): read after the run, to count distinct records.
          heads.push(Buffer.from(buf.subarray(start, Math.min(nl, start + 200))));
        }
        else if (buf[start + 9] === 0x53 && buf.subarray(start, start + 16).toString() === '{"type":"STATE",') lastStateLine = buf.subarray(start, nl).toString();
        start = nl + 1;
      }
      tail = Buffer.from(buf.subarray(start));
    });
    let lastStateLine = '';
    /** @type {Buffer[]} */
    const heads = [];
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const stderr = Buffer.concat(err).toString('utf8');
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const peakRssKb = m ? Number(m[1]) : hwmKb > 0 ? hwmKb : null;
      const lastState = lastStateLine ? JSON.parse(lastStateLine).value : null;
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpuMs = user && sys ? Math.round((Number(user[1]) + Number(sys[1])) * 1000) : null;
      const keys = new Set();
      for (const h of heads) {
        const m = /"stream":"([a-z_]+)".*?"record":\{"id":(\d+)/.exec(h.toString('latin1'));
        keys.add(m ? `${m[1]}:${m[2]}` : h.toString('latin1'));
      }
      resolvePromise({ records, distinctRecords: keys.size, keys, lines, bytes, wallMs, cpuMs, code: useTime ? exitOfTime(stderr, code) : code, peakRssKb, stderr, lastState });
    });
  });
}

/** time(1) exits with the command's code; a signal shows as "Command terminated by signal". @param {string} stderr @param {number | null} code */
function exitOfTime(stderr, code) {
  return /Command terminated by signal/.test(stderr) ? null : code;
}

/**
 * The projects a default auto-discovery selects (members, not archived, not pending deletion) and the bound.
 * @param {{ projects: any[], mergeRequests: any[] }} dataset
 */
function lowerBound(dataset) {
  const selected = dataset.projects.filter((p) => p.permissions?.project_access && !p.archived && !(p.marked_for_deletion_on ?? p.marked_for_deletion_at));
  const listed = dataset.projects.filter((p) => p.permissions?.project_access && !p.archived);
  const ids = new Set(selected.map((p) => p.id));
  const enabled = new Set(selected.filter((p) => p.merge_requests_enabled !== false).map((p) => p.id));
  /** @type {Map<number, number>} */
  const perProject = new Map();
  const users = new Set();
  for (const m of dataset.mergeRequests) {
    if (!enabled.has(m.project_id)) continue;
    perProject.set(m.project_id, (perProject.get(m.project_id) ?? 0) + 1);
    for (const u of [m.author, m.assignee, ...(m.assignees ?? []), ...(m.reviewers ?? []), m.merge_user, m.merged_by, m.closed_by]) if (u) users.add(u.id);
  }
  let mrPages = 0;
  for (const id of ids) mrPages += Math.max(1, Math.ceil((perProject.get(id) ?? 0) / 100));
  const P = selected.length;
  const U = users.size;
  const mrs = [...perProject.values()].reduce((a, b) => a + b, 0);
  const bound = Math.ceil(P / 100) + mrPages + Math.ceil(U / 100);
  /** Every record a full sync must emit, as `stream:id` (the sink's keys). */
  const expectedKeys = new Set([
    ...selected.map((p) => `projects:${p.id}`),
    ...dataset.mergeRequests.filter((m) => enabled.has(m.project_id)).map((m) => `merge_requests:${m.id}`),
    ...[...users].map((id) => `users:${id}`),
  ]);
  return { P, listed: listed.length, U, mrs, mrPages, bound, records: P + mrs + U, expectedKeys, maxPerProject: Math.max(0, ...perProject.values()) };
}

/**
 * @param {Awaited<ReturnType<typeof startSimulator>>} sim
 * @param {string} dir
 * @param {string} name
 * @param {Record<string, unknown>} over
 * @param {unknown} [state]
 */
async function scenario(sim, dir, name, over, state) {
  const configPath = join(dir, `${name}-config.json`);
  await writeFile(configPath, JSON.stringify({ gitlab_token: sim.token, gitlab_base_url: sim.url, auto_discover_projects: true, ...over }));
  const args = ['--config', configPath];
  if (state) {
    const statePath = join(dir, `${name}-state.json`);
    await writeFile(statePath, JSON.stringify(state));
    args.push('--state', statePath);
  }
  /** @type {Array<{ run: TapRun, stats: any }>} */
  const runs = [];
  for (let i = 0; i < repeat; i += 1) {
    sim.reset();
    const run = await runTap([...args]);
    const stats = sim.stats();
    if (run.code !== 0) throw new Error(`scenario ${name}: the tap exited ${run.code}\n${run.stderr.slice(-3000)}`);
    runs.push({ run, stats });
  }
  // With --repeat: the run of median wall time stands for the scenario; peak RSS and CPU are medians of their own.
  const byWall = [...runs].sort((x, y) => x.run.wallMs - y.run.wallMs);
  const mid = /** @type {{ run: TapRun, stats: any }} */ (byWall[(byWall.length - 1) >> 1]);
  const rss = median(runs.map((r) => r.run.peakRssKb));
  const cpu = median(runs.map((r) => r.run.cpuMs));
  const spread = {
    runs: runs.length,
    wallMs: [Math.round(byWall[0]?.run.wallMs ?? 0), Math.round(byWall[byWall.length - 1]?.run.wallMs ?? 0)],
    peakRssMB: [mb(Math.min(...runs.map((r) => r.run.peakRssKb ?? Infinity))), mb(Math.max(...runs.map((r) => r.run.peakRssKb ?? 0)))],
  };
  return { run: { ...mid.run, peakRssKb: rss, cpuMs: cpu }, stats: mid.stats, spread };
}

/** The median of the known values (the lower middle one of an even count); null when none is known. @param {Array<number | null>} xs */
function median(xs) {
  const known = /** @type {number[]} */ (xs.filter((x) => x !== null)).sort((a, b) => a - b);
  return known.length === 0 ? null : /** @type {number} */ (known[(known.length - 1) >> 1]);
}

const mb = (/** @type {number | null} */ kb) => (kb === null ? null : Math.round((kb / 1024) * 10) / 10);
const r2 = (/** @type {number} */ x) => Math.round(x * 100) / 100;

async function main() {
  if (binArg < 0 && !existsSync(join(ROOT, 'dist', 'tap-gitlab.cjs'))) {
    process.stderr.write('bench: dist/tap-gitlab.cjs is missing; run `npm run build` first (or `npm run bench`, which builds).\n');
    return 1;
  }
  const dir = await mkdtemp(join(tmpdir(), 'tap-gitlab-bench-'));
  const P = Math.round(200 * scale);
  const U = Math.round(2000 * scale);
  const base = { seed: 42, projects: P, users: U, groups: 8, subgroupsPerGroup: 2 };
  const want = (/** @type {string} */ k) => only === null || only.has(k);
  /** @type {Array<Record<string, unknown>>} */
  const results = [];
  const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

  try {
    // a, b, d on the 20,000 merge request dataset
    if (want('a') || want('b') || want('d')) {
      const sim = await startSimulator({ ...base, mergeRequestsPerProject: 100, jsonCacheEntries: 1_000_000 });
      sim.warm();
      try {
        const lb = lowerBound(sim.dataset);
        log(`dataset: ${sim.dataset.projects.length} projects, ${sim.dataset.mergeRequests.length} merge requests, ${sim.dataset.users.length} users; selected ${lb.P} projects, ${lb.mrs} merge requests, ${lb.U} users`);
        let stateA = null;
        if (want('a') || want('d')) {
          log('a: full sync, 0 ms latency ...');
          const measured = await scenario(sim, dir, 'a', { max_concurrency: 4 });
          stateA = measured.run.lastState;
          results.push(row('a', `full, ${sim.dataset.mergeRequests.length} MRs, 0 ms`, measured, lb, 0, 4));
        }
        if (want('b')) {
          log('b: full sync, 20 ms latency, concurrency 4 ...');
          sim.control({ latencyMs: 20 });
          const measured = await scenario(sim, dir, 'b', { max_concurrency: 4 });
          sim.control({ latencyMs: 0 });
          results.push(row('b', `full, ${sim.dataset.mergeRequests.length} MRs, 20 ms, c=4`, measured, lb, 20, 4));
        }
        if (want('d') && stateA) {
          log('d: incremental sync without changes ...');
          const measured = await scenario(sim, dir, 'd', { max_concurrency: 4 }, stateA);
          const { stats } = measured;
          // The listing's pages by the dataset (keyset, 100 per page), not by the requests the tap made.
          const listing = Math.max(1, Math.ceil(lb.listed / 100));
          const r = row('d', 'incremental, no changes, 0 ms', measured, lb, 0, 4);
          r.incrementalBound = listing + lb.P;
          r.listingRequests = listing;
          r.listingRequestsMade = stats.byRoute['GET /projects'] ?? 0;
          r.bound = listing + lb.P;
          r.ratio = r2(stats.requests / (listing + lb.P));
          r.exactRatio = stats.requests / (listing + lb.P);
          results.push(r);
        }
      } finally {
        await sim.close();
      }
    }
    // e: a few projects, one of them holding a third of all merge requests (a monorepo next to
    // small services), at 20 ms: the case where one project's sequential scan is the critical path.
    if (want('e')) {
      const sim = await startSimulator({ ...base, projects: Math.max(4, Math.round(12 * scale)), mergeRequestsPerProject: 1000, jsonCacheEntries: 1_000_000, latencyMs: 20 });
      sim.warm();
      try {
        const lb = lowerBound(sim.dataset);
        log(`e: full sync of ${lb.mrs} merge requests in ${lb.P} projects (largest ${lb.maxPerProject}), 20 ms latency, concurrency 4 ...`);
        const measured = await scenario(sim, dir, 'e', { max_concurrency: 4 });
        results.push(row('e', `one large project (${lb.maxPerProject} of ${lb.mrs} MRs), 20 ms, c=4`, measured, lb, 20, 4));
      } finally {
        await sim.close();
      }
    }
    if (want('c')) {
      const sim = await startSimulator({ ...base, mergeRequestsPerProject: 500, jsonCacheEntries: 1_000_000 });
      sim.warm();
      try {
        const lb = lowerBound(sim.dataset);
        log(`c: full sync of ${sim.dataset.mergeRequests.length} merge requests, 0 ms latency ...`);
        const measured = await scenario(sim, dir, 'c', { max_concurrency: 4 });
        results.push(row('c', `full, ${sim.dataset.mergeRequests.length} MRs, 0 ms`, measured, lb, 0, 4));
      } finally {
        await sim.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  printTable(results);
  const goals = checkGoals(results);
  for (const g of goals) process.stdout.write(`${g.ok ? 'MET   ' : 'MISSED'} ${g.goal}: ${g.detail}\n`);
  process.stdout.write(`BENCH ${JSON.stringify({ quick, repeat, node: process.version, results, goals })}\n`);
  return 0;
}

/**
 * @param {string} id @param {string} label @param {{ run: TapRun, stats: any, spread: any }} measured
 * @param {ReturnType<typeof lowerBound>} lb @param {number} latencyMs @param {number} concurrency
 * @returns {Record<string, any>}
 */
function row(id, label, { run, stats, spread }, lb, latencyMs, concurrency) {
  const latencyBoundMs = (stats.requests * latencyMs) / concurrency;
  return {
    id,
    label,
    spread,
    records: run.records,
    expectedRecords: id === 'd' ? 0 : lb.records,
    wallMs: Math.round(run.wallMs),
    tapCpuMs: run.cpuMs,
    recordsPerSec: Math.round(run.records / (run.wallMs / 1000)),
    outputMB: r2(run.bytes / 1048576),
    requests: stats.requests,
    byRoute: stats.byRoute,
    bound: lb.bound,
    ratio: r2(stats.requests / lb.bound),
    // Unrounded, for the goals (a rounded 1.0507 would read as 1.05).
    exactRatio: stats.requests / lb.bound,
    distinctRecords: run.distinctRecords,
    // Ids, not counts: an extra record (an unselected project's, say) must not hide a missing one.
    missingRecords: id === 'd' ? 0 : [...lb.expectedKeys].filter((k) => !run.keys.has(k)).length,
    extraRecords: id === 'd' ? run.keys.size : [...run.keys].filter((k) => !lb.expectedKeys.has(k)).length,
    latencyMs,
    concurrency,
    latencyBoundMs: Math.round(latencyBoundMs),
    wallOverLatencyBound: latencyMs > 0 ? r2(run.wallMs / latencyBoundMs) : null,
    exactWallOverLatencyBound: latencyMs > 0 ? run.wallMs / latencyBoundMs : null,
    peakRssMB: mb(run.peakRssKb),
    selectedProjects: lb.P,
    listedProjects: lb.listed,
    mergeRequests: lb.mrs,
    users: lb.U,
    largestProject: lb.maxPerProject,
  };
}

/** @param {Array<Record<string, any>>} results */
function printTable(results) {
  const cols = [
    ['scenario', (/** @type {any} */ r) => `${r.id} ${r.label}`],
    ['records', (/** @type {any} */ r) => String(r.records)],
    ['wall s', (/** @type {any} */ r) => (r.wallMs / 1000).toFixed(2)],
    ['tap CPU s', (/** @type {any} */ r) => (r.tapCpuMs === null ? '?' : (r.tapCpuMs / 1000).toFixed(2))],
    ['records/s', (/** @type {any} */ r) => String(r.recordsPerSec)],
    ['requests', (/** @type {any} */ r) => String(r.requests)],
    ['bound', (/** @type {any} */ r) => String(r.bound)],
    ['ratio', (/** @type {any} */ r) => r.ratio.toFixed(2)],
    ['latency bound s', (/** @type {any} */ r) => (r.latencyMs > 0 ? (r.latencyBoundMs / 1000).toFixed(2) : '-')],
    ['wall/lat', (/** @type {any} */ r) => (r.wallOverLatencyBound === null ? '-' : r.wallOverLatencyBound.toFixed(2))],
    ['peak RSS MB', (/** @type {any} */ r) => (r.peakRssMB === null ? '?' : String(r.peakRssMB))],
    ...(repeat > 1 ? [['runs: wall s, RSS MB', (/** @type {any} */ r) => `${r.spread.runs}: ${(r.spread.wallMs[0] / 1000).toFixed(2)}-${(r.spread.wallMs[1] / 1000).toFixed(2)}, ${r.spread.peakRssMB[0]}-${r.spread.peakRssMB[1]}`]] : []),
  ];
  const cells = results.map((r) => cols.map(([, f]) => /** @type {(r: any) => string} */ (f)(r)));
  const widths = cols.map(([h], i) => Math.max(String(h).length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (/** @type {string[]} */ c) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${line(cols.map(([h]) => String(h)))}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

/** @param {Array<Record<string, any>>} results */
function checkGoals(results) {
  const by = Object.fromEntries(results.map((r) => [r.id, r]));
  /** @type {Array<{ goal: string, ok: boolean, detail: string }>} */
  const goals = [];
  for (const id of ['a', 'b', 'c']) {
    const r = by[id];
    if (r) goals.push({ goal: `requests <= 1.05 x bound (${id})`, ok: r.exactRatio <= 1.05, detail: `${r.requests} / ${r.bound} = ${r.ratio}` });
  }
  if (by.b) goals.push({ goal: 'wall <= 1.3 x latency bound at 20 ms, c=4 (b)', ok: by.b.exactWallOverLatencyBound <= 1.3, detail: `${(by.b.wallMs / 1000).toFixed(2)} s / ${(by.b.latencyBoundMs / 1000).toFixed(2)} s = ${by.b.wallOverLatencyBound}` });
  for (const id of ['a', 'c']) {
    const r = by[id];
    if (r) goals.push({ goal: `>= 20,000 records/s at 0 ms (${id})`, ok: r.recordsPerSec >= 20000, detail: `${r.recordsPerSec} records/s` });
  }
  for (const id of ['a', 'b', 'c', 'd']) {
    const r = by[id];
    if (r && r.peakRssMB !== null) goals.push({ goal: `peak RSS <= 150 MB (${id})`, ok: r.peakRssMB <= 150, detail: `${r.peakRssMB} MB` });
  }
  if (by.a?.peakRssMB && by.c?.peakRssMB) {
    const growth = by.c.peakRssMB / by.a.peakRssMB - 1;
    goals.push({ goal: 'peak RSS at 100k MRs within 10% of 20k (c vs a)', ok: Math.abs(growth) <= 0.1, detail: `${by.c.peakRssMB} MB vs ${by.a.peakRssMB} MB (${growth >= 0 ? '+' : ''}${Math.round(growth * 100)}%)` });
  }
  if (by.d) goals.push({ goal: 'incremental without changes <= listing + one per project (d)', ok: by.d.requests <= by.d.incrementalBound && by.d.records === 0, detail: `${by.d.requests} requests vs ${by.d.listingRequests} listing + ${by.d.selectedProjects} projects; ${by.d.records} records` });
  // e is not one of the goals: it shows how far a project larger than the rest together is from the latency bound.
  if (by.e) goals.push({ goal: 'one large project: wall <= 1.3 x latency bound at 20 ms, c=4 (e)', ok: by.e.exactWallOverLatencyBound <= 1.3, detail: `${(by.e.wallMs / 1000).toFixed(2)} s / ${(by.e.latencyBoundMs / 1000).toFixed(2)} s = ${by.e.wallOverLatencyBound}; ${by.e.requests} requests, bound ${by.e.bound}` });
  for (const id of ['a', 'b', 'c', 'e']) {
    const r = by[id];
    if (r) goals.push({ goal: `every record emitted (${id})`, ok: r.missingRecords === 0 && r.extraRecords === 0, detail: `${r.distinctRecords} distinct of ${r.records} emitted, ${r.expectedRecords} expected; ${r.missingRecords} missing, ${r.extraRecords} extra` });
  }
  return goals;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
