// @ts-check
/**
 * The fault scenarios of tap-gitlab, shared by `npm run test:faults` (scripts/fault-suite.mjs, all of
 * them, as a table) and the node-tap tests test/faults-*.test.ts (the `quick` ones).
 *
 * Each scenario spawns the built bin/tap-gitlab as a child process against the GitLab simulator
 * (test/simulator) — sometimes through a small proxy that can answer in GitLab's place (revoked
 * token, login page, deleted project) — with a distinctive token, and checks after the run (and
 * after the resume runs, each started from the last STATE line printed):
 * - records delivered against the simulator's ground truth: lost must be 0;
 * - token leaks: the token must not appear anywhere in stdout or stderr;
 * - the exit code; stdout holds only Singer JSON lines; stderr has no stack trace;
 * - scenario specifics (a line naming a project, a single `tap-gitlab:` line, a final STATE...).
 * A scenario returns an Outcome; `problems` lists every failed check (empty = pass).
 *
 * Nothing leaves the machine: servers bind 127.0.0.1, and the DNS scenarios preload a resolver stub
 * into the child that fails every `*.invalid` name locally (the host's resolver is a network one).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, isMember } from '../simulator/server.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'tap-gitlab');
export const DIST_CLI = join(ROOT, 'dist', 'tap-gitlab.cjs');

/** Distinctive: any occurrence of it in the output is a leak. */
export const TOKEN = 'glpat-FaultSuite-7c3e9a1b2d4f6e8a';

/** Small but complete: private/archived/pending-deletion/MRs-disabled projects, a bulk edit, unicode, a >100 kB description. */
export const DATASET = { projects: 12, groups: 2, subgroupsPerGroup: 1, mergeRequestsPerProject: 20, users: 15, bulkEditSize: 30 };

/** How long one child run may take before it counts as hanging (and is killed). */
const RUN_TIMEOUT_MS = 60_000;

// ------------------------------------------------------------------------------------------ outcome

/**
 * @typedef {object} Outcome
 * @property {string} name
 * @property {number | null} requests API requests GitLab (simulator or proxy) received
 * @property {number | null} retries retries the tap reported in its summary lines (summed over runs)
 * @property {number | null} r429 429 answers sent
 * @property {number | null} expected records expected (distinct stream:id)
 * @property {number | null} delivered expected records delivered (distinct, over all runs)
 * @property {number | null} lost expected records never delivered
 * @property {number} leaks occurrences of the token in stdout + stderr
 * @property {string} exit exit codes of the runs, "1→0" when resumed
 * @property {string} stderr1 first line of stderr of the first run (timestamp removed)
 * @property {string[]} problems failed checks; empty = pass
 * @property {number} seconds
 */

/**
 * @typedef {object} RunResult
 * @property {number | null} code
 * @property {string | null} signal
 * @property {string} stdout
 * @property {string} stderr
 * @property {Array<Record<string, any>>} messages parsed stdout lines
 * @property {string[]} badLines stdout lines that are not JSON objects
 * @property {Record<string, any> | null} lastState value of the last STATE line
 * @property {boolean} timedOut
 * @property {number} ms
 */

/** Collects the checks of one scenario. */
export class Checks {
  constructor() {
    /** @type {string[]} */
    this.problems = [];
  }

  /** @param {boolean} cond @param {string} what */
  ok(cond, what) {
    if (!cond) this.problems.push(what);
    return cond;
  }
}

/** @param {string} text */
export const countToken = (text) => text.split(TOKEN).length - 1;

const STACK_LINE = /^\s+at\s.+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))\s*$/m;
/** @param {string} stderr */
export const hasStackTrace = (stderr) => STACK_LINE.test(stderr) || /node:internal|Uncaught|UnhandledPromiseRejection/.test(stderr);

/** @param {string} stderr */
export function firstLine(stderr) {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+/, '').trim();
}

/** The `tap-gitlab: ...` lines (the one-line errors). @param {string} stderr */
export const errorLines = (stderr) => stderr.split('\n').filter((l) => l.startsWith('tap-gitlab:'));

/** Sum of `retries=N` over the summary lines. @param {string} stderr */
function summaryRetries(stderr) {
  let n = 0;
  let found = false;
  for (const m of stderr.matchAll(/ retries=(\d+) /g)) {
    n += Number(m[1]);
    found = true;
  }
  return found ? n : null;
}

// ------------------------------------------------------------------------------------------ ground truth

/** Ids of the users a merge request (list entity) references, as the tap collects them. @param {any} m */
function people(m) {
  const list = [m.author, m.assignee, ...(m.assignees ?? []), ...(m.reviewers ?? []), m.merge_user, m.merged_by, m.closed_by];
  return list.filter((u) => u && typeof u.id === 'number').map((u) => u.id);
}

/**
 * The records a complete run must deliver, as "stream:id" keys.
 * Discovery: member, not archived, not pending deletion (README of the simulator); merge requests and
 * their users only from projects with merge requests enabled.
 * @param {any} dataset @param {{ projectIds?: number[], streams?: string[] }} [opts]
 */
export function groundTruth(dataset, opts = {}) {
  const projects = opts.projectIds
    ? dataset.projects.filter((/** @type {any} */ p) => opts.projectIds?.includes(p.id))
    : dataset.projects.filter((/** @type {any} */ p) => isMember(p) && !p.archived && !p.marked_for_deletion_on && !p.marked_for_deletion_at);
  const streams = new Set(opts.streams ?? ['projects', 'merge_requests', 'users']);
  /** @type {Set<string>} */
  const keys = new Set();
  for (const p of projects) if (streams.has('projects')) keys.add(`projects:${p.id}`);
  const withMrs = new Set(projects.filter((/** @type {any} */ p) => p.merge_requests_enabled !== false).map((/** @type {any} */ p) => p.id));
  for (const m of dataset.mergeRequests) {
    if (!withMrs.has(m.project_id)) continue;
    if (streams.has('merge_requests')) keys.add(`merge_requests:${m.id}`);
    if (streams.has('users')) for (const id of people(m)) keys.add(`users:${id}`);
  }
  return keys;
}

/** "stream:id" of every RECORD. @param {Array<Record<string, any>>} messages */
export function deliveredKeys(messages) {
  /** @type {Set<string>} */
  const keys = new Set();
  for (const m of messages) if (m.type === 'RECORD' && m.record && m.record.id !== undefined) keys.add(`${m.stream}:${m.record.id}`);
  return keys;
}

/**
 * Merge requests whose title, description or updated_at differ from the simulator's (unicode,
 * nulls and the very large description must arrive intact).
 * @param {any} dataset @param {Array<Record<string, any>>} messages
 */
export function corruptRecords(dataset, messages) {
  const byId = new Map(dataset.mergeRequests.map((/** @type {any} */ m) => [m.id, m]));
  const bad = [];
  for (const msg of messages) {
    if (msg.type !== 'RECORD' || msg.stream !== 'merge_requests') continue;
    const src = byId.get(msg.record.id);
    if (!src) continue;
    const r = msg.record;
    if (r.title !== (src.title ?? null) || r.description !== (src.description ?? null) || Date.parse(r.updated_at) !== Date.parse(src.updated_at)) bad.push(r.id);
  }
  return bad;
}

// ------------------------------------------------------------------------------------------ processes

/** A scratch directory for config/state/catalog files. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'tap-gitlab-faults-'));
  let n = 0;
  return {
    dir,
    /** Writes a file (objects as JSON) and returns its path. @param {string} name @param {unknown} content */
    file(name, content) {
      const path = join(dir, `${++n}-${name}`);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
      return path;
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const DNS_STUB = `import dns from 'node:dns';
const lookup = dns.lookup;
const fail = (hostname) => Object.assign(new Error('getaddrinfo ENOTFOUND ' + hostname), { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (/\\.invalid\\.?$/i.test(String(hostname))) return process.nextTick(callback, fail(hostname));
  return lookup.call(this, hostname, options, callback);
};
dns.promises.lookup = async (hostname, options) => {
  if (/\\.invalid\\.?$/i.test(String(hostname))) throw fail(hostname);
  return lookup.__promisified__ ? lookup.__promisified__(hostname, options) : new Promise((res, rej) => lookup(hostname, options ?? {}, (e, a, f) => (e ? rej(e) : res({ address: a, family: f }))));
};
`;

/**
 * Runs bin/tap-gitlab with the given arguments. `onLine(message, child)` sees every stdout line as
 * it arrives (to send a signal, kill -9, or close the reader). Never rejects; a run longer than
 * RUN_TIMEOUT_MS is killed and marked timedOut.
 * @param {string[]} args
 * @param {{ cwd: string, dnsStub?: boolean, onLine?: (msg: Record<string, any> | null, child: import('node:child_process').ChildProcess, lineNo: number) => void, onSpawn?: (child: import('node:child_process').ChildProcess) => void, timeoutMs?: number }} opts
 * @returns {Promise<RunResult>}
 */
export function runTap(args, opts) {
  const started = Date.now();
  const pre = [];
  if (opts.dnsStub) {
    const stub = join(opts.cwd, 'dns-invalid-stub.mjs');
    if (!existsSync(stub)) writeFileSync(stub, DNS_STUB);
    pre.push('--import', stub);
  }
  /** @type {Record<string, string | undefined>} */
  const env = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('TAP_GITLAB_') || k === 'NODE_OPTIONS') delete env[k];
  // Through env(1) without NODE_OPTIONS: test runners (node-tap's processinfo) hook spawned node processes
  // by injecting loaders there, which must not reach the tap under test.
  const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...pre, BIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  let pending = '';
  let lineNo = 0;
  let timedOut = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.setEncoding('utf8');
  child.stdout.on('error', () => undefined);
  child.stdout.on('data', (d) => {
    stdout += d;
    pending += d;
    let i;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      lineNo += 1;
      if (opts.onLine && child.exitCode === null && !child.killed) {
        let msg = null;
        try {
          msg = JSON.parse(line);
        } catch {
          msg = null;
        }
        opts.onLine(msg, child, lineNo);
      }
    }
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? RUN_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const messages = [];
      const badLines = [];
      const lines = stdout.split('\n');
      const last = lines.pop();
      // A last line without its newline is a write cut by kill -9: the target never saw it whole.
      if (last !== undefined && last !== '' && !(signal === 'SIGKILL')) badLines.push(last);
      for (const line of lines) {
        try {
          const m = JSON.parse(line);
          if (m && typeof m === 'object' && typeof m.type === 'string') messages.push(m);
          else badLines.push(line);
        } catch {
          badLines.push(line);
        }
      }
      const states = messages.filter((m) => m.type === 'STATE');
      resolve({ code, signal, stdout, stderr, messages, badLines, lastState: states.length > 0 ? states[states.length - 1]?.value ?? null : null, timedOut, ms: Date.now() - started });
    });
  });
}

/** A TCP port nothing listens on (bound, then closed). */
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (srv.address()).port;
  await new Promise((resolve) => srv.close(() => resolve(undefined)));
  return port;
}

// ------------------------------------------------------------------------------------------ proxy

/**
 * @typedef {{ n: number, method: string, path: string, headers: http.IncomingHttpHeaders }} ProxyRequest
 * @typedef {{ status: number, headers?: Record<string, string>, body: string }} ProxyAnswer
 * @typedef {(req: ProxyRequest, env: Env) => ProxyAnswer | undefined | void} ProxyHook
 */

/**
 * A pass-through proxy in front of the simulator; `hook` may answer a request itself. Upstream
 * resets and cut bodies are passed on as resets.
 * @param {string} target http://127.0.0.1:PORT @param {(req: ProxyRequest) => ProxyAnswer | undefined | void} hook
 */
async function startProxy(target, hook) {
  const up = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  let requests = 0;
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = /** @type {Buffer[]} */ ([]);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = ++requests;
      const path = req.url ?? '/';
      const answer = path.startsWith('/__') ? undefined : hook({ n, method: req.method ?? 'GET', path, headers: req.headers });
      if (answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
        res.end(answer.body);
        return;
      }
      const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path, headers: req.headers, agent }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.on('aborted', () => res.destroy());
        ur.on('error', () => res.destroy());
        ur.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      fwd.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}

// ------------------------------------------------------------------------------------------ a sync scenario

/**
 * @typedef {object} Env
 * @property {Awaited<ReturnType<typeof startSimulator>>} sim
 * @property {string} url what gitlab_base_url points to (the proxy when there is one)
 * @property {ReturnType<typeof scratch>} files
 * @property {() => number} requests
 * @property {(extra?: Record<string, unknown>) => Record<string, unknown>} config
 */

/**
 * Starts the simulator (and the proxy when a hook is given), runs `fn`, then closes everything.
 * @template T
 * @param {{ sim?: Record<string, unknown>, hook?: ProxyHook }} setup
 * @param {(env: Env) => Promise<T>} fn
 */
export async function withGitLab(setup, fn) {
  const sim = await startSimulator({ ...DATASET, token: TOKEN, ...setup.sim });
  const hook = setup.hook;
  /** @type {Env | null} */
  let env = null;
  const proxy = hook ? await startProxy(sim.url, (req) => (env ? hook(req, env) : undefined)) : null;
  const files = scratch();
  const url = proxy ? proxy.url : sim.baseUrl;
  env = {
    sim,
    url,
    files,
    requests: () => (proxy ? proxy.requests() : sim.stats().requests),
    config: (extra = {}) => ({ gitlab_base_url: url, gitlab_token: TOKEN, auto_discover_projects: true, page_size: 10, ...extra }),
  };
  try {
    return await fn(env);
  } finally {
    await proxy?.close();
    await sim.close();
    files.close();
  }
}

/**
 * @typedef {object} SyncPlan
 * @property {Record<string, unknown>} [sim] simulator options
 * @property {ProxyHook} [hook]
 * @property {Record<string, unknown> | ((env: Env) => Record<string, unknown>)} [config] config keys over the defaults
 * @property {unknown} [state] state file of the first run
 * @property {string[]} [args] extra CLI arguments
 * @property {number | number[]} [exit] expected exit code of the first run (or any of these)
 * @property {RegExp} [stderr] the first run's stderr must match
 * @property {(r: RunResult, env: Env, c: Checks) => void} [check] more checks on the first run
 * @property {(msg: Record<string, any> | null, child: import('node:child_process').ChildProcess, lineNo: number) => void} [onLine]
 * @property {(child: import('node:child_process').ChildProcess) => void} [onSpawn]
 * @property {(env: Env, run: number) => void} [beforeResume] repair GitLab before resume run `run` (1-based)
 * @property {number} [resumes] resume runs allowed until one exits 0 (default: 0 when the first run must exit 0, else 1)
 * @property {number} [resumeExit] expected exit code of the last resume run (default 0)
 * @property {(env: Env) => Set<string>} [expected] ground truth (default: groundTruth of the dataset after the runs)
 * @property {boolean} [allowUnresumed] the first run may end without any STATE (nothing to resume from)
 */

/**
 * Runs one sync scenario: the first run, its checks, resume runs from the last STATE printed, then
 * the totals (lost, leaks) over all runs.
 * @param {string} name @param {SyncPlan} plan @returns {Promise<Outcome>}
 */
export async function syncScenario(name, plan) {
  const started = Date.now();
  return withGitLab({ sim: plan.sim, hook: plan.hook }, async (env) => {
    const c = new Checks();
    const extra = typeof plan.config === 'function' ? plan.config(env) : plan.config;
    const configPath = env.files.file('config.json', env.config(extra));
    const args = ['--config', configPath, ...(plan.args ?? [])];
    const firstState = plan.state === undefined ? [] : ['--state', env.files.file('state.json', plan.state)];
    const runs = [await runTap([...args, ...firstState], { cwd: env.files.dir, onLine: plan.onLine, onSpawn: plan.onSpawn })];
    const first = /** @type {RunResult} */ (runs[0]);
    const exits = [first.code ?? first.signal ?? '?'];
    const wanted = plan.exit ?? 0;
    c.ok(!first.timedOut, `run 1 did not finish within ${RUN_TIMEOUT_MS / 1000}s (hang)`);
    c.ok(Array.isArray(wanted) ? wanted.includes(first.code ?? -1) : first.code === wanted, `run 1 exit ${first.code ?? first.signal}, expected ${wanted}`);
    if (plan.stderr) c.ok(plan.stderr.test(first.stderr), `run 1 stderr does not match ${plan.stderr}`);
    plan.check?.(first, env, c);

    const resumes = plan.resumes ?? (wanted === 0 ? 0 : 1);
    let state = first.lastState;
    if (resumes > 0) {
      c.ok(state !== null || plan.allowUnresumed === true, 'run 1 printed no STATE to resume from');
      for (let i = 1; i <= resumes; i++) {
        plan.beforeResume?.(env, i);
        const stateArgs = state ? ['--state', env.files.file('state.json', state)] : [];
        const r = await runTap([...args, ...stateArgs], { cwd: env.files.dir });
        runs.push(r);
        exits.push(r.code ?? r.signal ?? '?');
        c.ok(!r.timedOut, `resume ${i} did not finish (hang)`);
        if (r.lastState) state = r.lastState;
        if (r.code === 0) break;
      }
      const last = /** @type {RunResult} */ (runs[runs.length - 1]);
      c.ok(last.code === (plan.resumeExit ?? 0), `last resume exit ${last.code ?? last.signal}, expected ${plan.resumeExit ?? 0}`);
    }

    for (const [i, r] of runs.entries()) {
      c.ok(r.badLines.length === 0, `run ${i + 1}: ${r.badLines.length} stdout line(s) are not Singer JSON, e.g. ${JSON.stringify((r.badLines[0] ?? '').slice(0, 80))}`);
      c.ok(!hasStackTrace(r.stderr), `run ${i + 1}: stack trace on stderr`);
      c.ok(!/unexpected error/.test(r.stderr), `run ${i + 1}: "unexpected error" on stderr: ${errorLines(r.stderr)[0] ?? ''}`);
    }
    return finish(name, env, runs, exits, c, started, plan.expected);
  });
}

/**
 * Totals over the runs of a scenario and the checks every scenario shares.
 * @param {string} name @param {Env} env @param {RunResult[]} runs @param {Array<number | string>} exits
 * @param {Checks} c @param {number} started @param {((env: Env) => Set<string>) | undefined} expectedFn
 * @returns {Outcome}
 */
function finish(name, env, runs, exits, c, started, expectedFn) {
  // Of every run but the last, only what its last STATE covers: records printed after that STATE may be in no
  // bookmark, so a later run must bring them again (counting them would hide a bookmark that ran ahead).
  const all = runs.flatMap((r, i) => (i === runs.length - 1 ? r.messages : r.messages.slice(0, r.messages.map((m) => m.type).lastIndexOf('STATE') + 1)));
  const expected = expectedFn ? expectedFn(env) : groundTruth(env.sim.dataset);
  const got = deliveredKeys(all);
  let delivered = 0;
  for (const k of expected) if (got.has(k)) delivered += 1;
  const lost = expected.size - delivered;
  const leaks = runs.reduce((n, r) => n + countToken(r.stdout) + countToken(r.stderr), 0);
  const corrupt = corruptRecords(env.sim.dataset, all);
  c.ok(lost === 0, `${lost} record(s) lost, e.g. ${[...expected].filter((k) => !got.has(k)).slice(0, 3).join(', ')}`);
  c.ok(leaks === 0, `the token appears ${leaks} time(s) in the output`);
  c.ok(corrupt.length === 0, `${corrupt.length} merge request(s) differ from GitLab's (title/description/updated_at), e.g. ${corrupt.slice(0, 3).join(', ')}`);
  const stats = env.sim.stats();
  const retries = runs.map((r) => summaryRetries(r.stderr)).filter((n) => n !== null);
  return {
    name,
    requests: env.requests(),
    retries: retries.length > 0 ? retries.reduce((a, b) => a + b, 0) : null,
    r429: stats.statuses['429'] ?? 0,
    expected: expected.size,
    delivered,
    lost,
    leaks,
    exit: exits.join('→'),
    stderr1: firstLine(runs[0]?.stderr ?? ''),
    problems: c.problems,
    seconds: (Date.now() - started) / 1000,
  };
}

// ------------------------------------------------------------------------------------------ offline scenarios

/**
 * A run that must fail before (or without) syncing: exit code, one `tap-gitlab:` line matching
 * `message`, nothing on stdout (unless `stdoutOk`), no stack trace, no token.
 * @param {string} name
 * @param {{ files: (s: ReturnType<typeof scratch>, url: string) => string[] | Promise<string[]>, exit: number, message: RegExp, names?: (args: string[]) => string | null, dnsStub?: boolean, stdoutOk?: boolean, extra?: (r: RunResult, c: Checks) => void, oneLine?: boolean }} plan
 * @returns {Promise<Outcome>}
 */
export async function failingRun(name, plan) {
  const started = Date.now();
  const files = scratch();
  try {
    const c = new Checks();
    const args = await plan.files(files, '');
    const r = await runTap(args, { cwd: files.dir, dnsStub: plan.dnsStub });
    const errs = errorLines(r.stderr);
    c.ok(!r.timedOut, 'did not finish (hang)');
    c.ok(r.code === plan.exit, `exit ${r.code ?? r.signal}, expected ${plan.exit}`);
    c.ok(plan.stdoutOk === true || r.stdout === '', `wrote ${r.stdout.length} bytes to stdout before failing`);
    c.ok(errs.length === 1, `${errs.length} "tap-gitlab:" error lines, expected 1`);
    if (plan.oneLine !== false) {
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      c.ok(lines.length === 1, `stderr has ${lines.length} lines, expected the one error sentence`);
    }
    c.ok(plan.message.test(errs[0] ?? ''), `error line ${JSON.stringify(errs[0] ?? firstLine(r.stderr))} does not match ${plan.message}`);
    const file = plan.names?.(args) ?? null;
    if (file !== null) c.ok((errs[0] ?? '').includes(file), `error line does not name the file ${file}`);
    c.ok(!hasStackTrace(r.stderr), 'stack trace on stderr');
    plan.extra?.(r, c);
    const leaks = countToken(r.stdout) + countToken(r.stderr);
    c.ok(leaks === 0, `the token appears ${leaks} time(s) in the output`);
    return { name, requests: null, retries: summaryRetries(r.stderr), r429: null, expected: null, delivered: null, lost: null, leaks, exit: String(r.code ?? r.signal), stderr1: firstLine(r.stderr), problems: c.problems, seconds: (Date.now() - started) / 1000 };
  } finally {
    files.close();
  }
}

/** The file after `--<flag>`. @param {string[]} args @param {string} flag */
const argOf = (args, flag) => args[args.indexOf(`--${flag}`) + 1] ?? null;

// ------------------------------------------------------------------------------------------ the scenarios

/** A GitLab-like 401 for a revoked token. */
const REVOKED = { status: 401, body: JSON.stringify({ message: '401 Unauthorized' }) };
const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Sign in · GitLab</title></head><body><form action="/users/sign_in">…</form></body></html>';

/** @param {string} path */
const isMrList = (path) => /^\/api\/v4\/projects\/\d+\/merge_requests/.test(path);

/** kill -9 points: a tiny seeded generator so the suite is repeatable. @param {number} seed */
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * @typedef {{ name: string, quick: boolean, group: 'network' | 'interrupt' | 'input', run: () => Promise<Outcome> }} Scenario
 */

/** @type {Scenario[]} */
export const scenarios = [
  // ---------------------------------------------------------------- faults
  {
    name: 'baseline (no faults)',
    quick: true,
    group: 'network',
    run: () =>
      syncScenario('baseline (no faults)', {
        stderr: /Sync complete/,
        check: (r, env, c) => {
          const big = r.messages.find((m) => m.type === 'RECORD' && m.stream === 'merge_requests' && (m.record.description ?? '').length > 100_000);
          c.ok(big !== undefined, 'the merge request with a >100 kB description was not delivered whole');
          c.ok(r.messages.some((m) => m.type === 'RECORD' && /[^\x00-\x7f]/.test(m.record.title ?? '')), 'no unicode title delivered');
          c.ok(r.messages[r.messages.length - 1]?.type === 'STATE', 'stdout does not end with a STATE');
        },
      }),
  },
  {
    name: '429 storm, Retry-After: 0 (30%)',
    quick: false,
    group: 'network',
    run: () => syncScenario('429 storm, Retry-After: 0 (30%)', { sim: { faults: { rack429Rate: 0.3, retryAfterSeconds: 0, seed: 11 } }, stderr: /rate limited \(429\)/ }),
  },
  {
    name: '429 storm, Retry-After: 1 (10%)',
    quick: false,
    group: 'network',
    run: () => syncScenario('429 storm, Retry-After: 1 (10%)', { sim: { faults: { rack429Rate: 0.1, retryAfterSeconds: 1, seed: 12 } }, stderr: /waiting 1000ms \(retry-after\)/ }),
  },
  {
    name: '429 without headers (5%, backoff 5 s)',
    quick: false,
    group: 'network',
    run: () =>
      syncScenario('429 without headers (5%, backoff 5 s)', {
        sim: { faults: { app429Rate: 0.05, seed: 13 } },
        config: { max_retries: 3 },
        stderr: /rate limited \(429\); waiting \d+ms \(backoff\)/,
      }),
  },
  {
    name: '10% 5xx incl. HTML pages',
    quick: false,
    group: 'network',
    run: () => syncScenario('10% 5xx incl. HTML pages', { sim: { faults: { errorRate: 0.1, htmlErrors: true, seed: 14 } }, stderr: /answered 5\d\d; retry/ }),
  },
  {
    name: 'connection resets (10%)',
    quick: false,
    group: 'network',
    run: () => syncScenario('connection resets (10%)', { sim: { faults: { resetRate: 0.1, seed: 15 } }, stderr: /the connection was (reset|closed)/ }),
  },
  {
    name: 'truncated bodies (10%)',
    quick: false,
    group: 'network',
    run: () => syncScenario('truncated bodies (10%)', { sim: { faults: { truncateRate: 0.1, seed: 16 } }, stderr: /WARN/ }),
  },
  {
    name: 'non-JSON 200 (login page) every 6th',
    quick: false,
    group: 'network',
    run: () => {
      // Every 6th request gets the login page, but one URL at most BAD_BODY_RETRIES (2) times: a third
      // bad body in a row for the same request is a GitLab that answers with a login page for good, and
      // the tap stops on it by design. Without this cap the scenario failed whenever, late in the run with
      // one request in flight, a retry landed on the next 6th request again (seen in CI).
      /** @type {Map<string, number>} */
      const badFor = new Map();
      return syncScenario('non-JSON 200 (login page) every 6th', {
        hook: (req) => {
          if (req.n % 6 !== 0 || (badFor.get(req.path) ?? 0) >= 2) return undefined;
          badFor.set(req.path, (badFor.get(req.path) ?? 0) + 1);
          return { status: 200, headers: { 'content-type': 'text/html' }, body: LOGIN_PAGE };
        },
        stderr: /body that is not JSON; retry/,
      });
    },
  },
  {
    name: 'hanging GitLab (5%, timeout 1 s)',
    quick: true,
    group: 'network',
    run: () =>
      syncScenario('hanging GitLab (5%, timeout 1 s)', {
        sim: { faults: { hangRate: 0.05, seed: 17 } },
        config: { request_timeout_seconds: 1 },
        stderr: /timed out/,
      }),
  },
  {
    name: 'all faults at once',
    quick: true,
    group: 'network',
    run: () =>
      syncScenario('all faults at once', {
        sim: { faults: { errorRate: 0.05, htmlErrors: true, rack429Rate: 0.05, retryAfterSeconds: 0, resetRate: 0.03, truncateRate: 0.03, hangRate: 0.02, seed: 18 } },
        config: { request_timeout_seconds: 1 },
      }),
  },
  {
    name: 'GitLab down (100% 503), then back',
    quick: false,
    group: 'network',
    run: () =>
      syncScenario('GitLab down (100% 503), then back', {
        sim: { faults: { errorRate: 1, routes: ['GET /projects/:id/merge_requests'], seed: 19 } },
        config: { max_retries: 2 },
        exit: 1,
        stderr: /tap-gitlab: GitLab answered 5\d\d to GET \/api\/v4\/projects\/\d+\/merge_requests.* after 2 retries/,
        beforeResume: (env) => env.sim.setFaults(null),
      }),
  },
  {
    name: 'GitLab hangs always (timeout 1 s)',
    quick: false,
    group: 'network',
    run: () =>
      syncScenario('GitLab hangs always (timeout 1 s)', {
        sim: { faults: { hangRate: 1, routes: ['GET /projects/:id/merge_requests'], seed: 20 } },
        config: { max_retries: 1, request_timeout_seconds: 1 },
        exit: 1,
        stderr: /tap-gitlab: Could not reach GitLab .*timed out/,
        beforeResume: (env) => env.sim.setFaults(null),
      }),
  },
  {
    name: 'rate limited beyond max_retries, then resume',
    quick: false,
    group: 'network',
    run: () =>
      syncScenario('rate limited beyond max_retries, then resume', {
        sim: { faults: { rack429Rate: 1, retryAfterSeconds: 0, routes: ['GET /projects/:id/merge_requests'], seed: 21 } },
        config: { max_retries: 2 },
        exit: 1,
        stderr: /tap-gitlab: GitLab answered 429 .*after 2 retries.*lower max_concurrency/,
        beforeResume: (env) => env.sim.setFaults(null),
      }),
  },
  {
    name: 'project deleted after discovery (404)',
    quick: true,
    group: 'network',
    run: () => {
      /** @type {any} */
      let victim = null;
      return syncScenario('project deleted after discovery (404)', {
        // The first merge-request request deletes another discovered project that has merge requests.
        hook: (req, env) => {
          if (victim !== null || !isMrList(req.path)) return undefined;
          const requested = Number(/^\/api\/v4\/projects\/(\d+)/.exec(req.path)?.[1]);
          const truth = groundTruth(env.sim.dataset);
          const withMrs = new Set(env.sim.dataset.mergeRequests.filter((/** @type {any} */ m) => truth.has(`merge_requests:${m.id}`)).map((/** @type {any} */ m) => m.project_id));
          const target = [...withMrs].filter((id) => id !== requested).pop();
          victim = env.sim.dataset.projects.find((/** @type {any} */ p) => p.id === target) ?? null;
          if (victim) env.sim.mutate(({ dataset }) => void dataset.projects.splice(dataset.projects.indexOf(victim), 1));
          return undefined;
        },
        check: (r, _env, c) => {
          if (!c.ok(victim !== null, 'no project was deleted (hook did not run)')) return;
          c.ok(r.stderr.includes(`skipped ${victim.path_with_namespace} (#${victim.id}): not found (404)`), `summary does not name the deleted project ${victim.path_with_namespace}`);
        },
      });
    },
  },
  {
    name: 'configured project missing',
    quick: true,
    group: 'network',
    run: () => {
      /** @type {number[]} */
      let ids = [];
      return syncScenario('configured project missing', {
        config: (env) => {
          // three projects with merge requests (a configured project whose merge requests are disabled counts as failed)
          ids = env.sim.dataset.projects.filter((/** @type {any} */ p) => isMember(p) && !p.archived && p.merge_requests_enabled !== false).map((/** @type {any} */ p) => p.id).slice(0, 3);
          return { auto_discover_projects: false, gitlab_project_ids: [...ids, 999999, 'nobody/nothing'] };
        },
        exit: 1,
        resumes: 0,
        stderr: /tap-gitlab: 2 configured project\(s\) could not be read: 999999, nobody\/nothing/,
        check: (r, _env, c) => {
          c.ok(errorLines(r.stderr).length === 1, `${errorLines(r.stderr).length} "tap-gitlab:" lines, expected 1`);
          c.ok(r.messages[r.messages.length - 1]?.type === 'STATE', 'no final STATE');
        },
        expected: (env) => groundTruth(env.sim.dataset, { projectIds: ids }),
      });
    },
  },
  {
    name: 'token revoked mid-run (401), resume',
    quick: true,
    group: 'network',
    run: () => {
      const gate = { mrRequests: 0, revoked: false };
      return syncScenario('token revoked mid-run (401), resume', {
        hook: (req) => {
          if (isMrList(req.path) && ++gate.mrRequests === 8) gate.revoked = true;
          return gate.revoked ? REVOKED : undefined;
        },
        exit: 1,
        check: (r, _env, c) => {
          const errs = errorLines(r.stderr);
          c.ok(errs.length === 1, `${errs.length} "tap-gitlab:" lines, expected 1`);
          c.ok(/GitLab answered 401 .*token is invalid, expired or revoked/.test(errs[0] ?? ''), `unclear 401 line: ${errs[0] ?? ''}`);
          c.ok(r.messages[r.messages.length - 1]?.type === 'STATE', 'stdout does not end with a STATE');
        },
        beforeResume: () => {
          gate.revoked = false;
          gate.mrRequests = -1_000_000;
        },
      });
    },
  },
  {
    name: 'secrets: error body echoes the token',
    quick: true,
    group: 'network',
    run: () =>
      syncScenario('secrets: error body echoes the token', {
        hook: (req) => (isMrList(req.path) ? { status: 401, body: JSON.stringify({ message: `401 Unauthorized - token ${req.headers['private-token']} was revoked` }) } : undefined),
        args: ['--log-level', 'debug'],
        exit: 1,
        resumes: 0,
        check: (r, _env, c) => c.ok(/\[REDACTED\]/.test(r.stderr), 'the echoed token was not shown as [REDACTED]'),
        // every merge request list answers 401: nothing but the projects stream can arrive
        expected: (env) => groundTruth(env.sim.dataset, { streams: ['projects'] }),
      }),
  },
  {
    name: 'secrets: redirect to another origin',
    quick: false,
    group: 'network',
    run: async () => {
      const seen = { requests: 0, tokens: 0 };
      const other = http.createServer((req, res) => {
        seen.requests += 1;
        if (JSON.stringify(req.headers).includes(TOKEN)) seen.tokens += 1;
        res.end('[]');
      });
      await new Promise((resolve) => other.listen(0, '127.0.0.2', () => resolve(undefined)));
      const port = /** @type {import('node:net').AddressInfo} */ (other.address()).port;
      try {
        return await syncScenario('secrets: redirect to another origin', {
          hook: (req) => (isMrList(req.path) ? { status: 302, headers: { location: `http://127.0.0.2:${port}${req.path}` }, body: '' } : undefined),
          exit: 1,
          resumes: 0,
          stderr: /redirect to another origin/,
          check: (_r, _env, c) => {
            c.ok(seen.tokens === 0, `the token was sent to another origin ${seen.tokens} time(s)`);
            c.ok(seen.requests === 0, `${seen.requests} request(s) went to the other origin`);
          },
          expected: (env) => groundTruth(env.sim.dataset, { streams: ['projects'] }),
        });
      } finally {
        await new Promise((resolve) => other.close(() => resolve(undefined)));
      }
    },
  },

  // ---------------------------------------------------------------- interruptions
  ...['SIGTERM', 'SIGINT'].map((sig) => ({
    name: `${sig} mid-run, resume`,
    quick: true,
    group: /** @type {const} */ ('interrupt'),
    run: () => {
      let sent = false;
      return syncScenario(`${sig} mid-run, resume`, {
        sim: { latencyMs: 15 },
        onLine: (msg, child) => {
          if (!sent && msg?.type === 'RECORD' && msg.stream === 'merge_requests') {
            sent = true;
            child.kill(/** @type {NodeJS.Signals} */ (sig));
          }
        },
        exit: [1, sig === 'SIGTERM' ? 143 : 130],
        check: (r, _env, c) => {
          c.ok(sent, 'the signal was never sent');
          c.ok(r.messages[r.messages.length - 1]?.type === 'STATE', 'no final STATE after the signal');
          c.ok(r.signal === null, `killed by ${r.signal} instead of exiting`);
          c.ok(errorLines(r.stderr).length === 1 && /last STATE printed is safe to resume/.test(errorLines(r.stderr)[0] ?? ''), `unclear stop line: ${errorLines(r.stderr)[0] ?? ''}`);
        },
      });
    },
  })),
  {
    name: 'SIGTERM while a request hangs, resume',
    quick: false,
    group: 'interrupt',
    run: () =>
      syncScenario('SIGTERM while a request hangs, resume', {
        sim: { faults: { hangRate: 1, routes: ['GET /projects/:id/merge_requests'], seed: 22 } },
        config: { request_timeout_seconds: 60 },
        onSpawn: (child) => void setTimeout(() => child.kill('SIGTERM'), 1500),
        exit: 1,
        check: (r, _env, c) => {
          c.ok(r.ms < 10_000, `took ${r.ms} ms to stop after SIGTERM`);
          c.ok(r.messages[r.messages.length - 1]?.type === 'STATE', 'no final STATE after the signal');
        },
        beforeResume: (env) => env.sim.setFaults(null),
      }),
  },
  {
    name: 'kill -9 at random points ×4, resume',
    quick: true,
    group: 'interrupt',
    run: () => {
      const rnd = lcg(20240501);
      let kills = 0;
      let killAt = 0;
      return withGitLab({ sim: { latencyMs: 5 } }, async (env) => {
        const started = Date.now();
        const c = new Checks();
        const configPath = env.files.file('config.json', env.config());
        /** @type {RunResult[]} */
        const runs = [];
        const exits = [];
        let state = null;
        // four runs killed at a random line (the first run has ~230 lines), then one to the end
        for (let i = 0; i < 5; i++) {
          const killing = i < 4;
          killAt = 1 + Math.floor(rnd() * 60);
          const args = ['--config', configPath, ...(state ? ['--state', env.files.file('state.json', state)] : [])];
          const r = await runTap(args, {
            cwd: env.files.dir,
            onLine: killing
              ? (_msg, child, lineNo) => {
                  if (lineNo >= killAt) {
                    kills += child.kill('SIGKILL') ? 1 : 0;
                  }
                }
              : undefined,
          });
          runs.push(r);
          exits.push(r.code ?? r.signal ?? '?');
          if (r.lastState) state = r.lastState;
          c.ok(!r.timedOut, `run ${i + 1} did not finish (hang)`);
          c.ok(!hasStackTrace(r.stderr), `run ${i + 1}: stack trace on stderr`);
          c.ok(r.badLines.length === 0, `run ${i + 1}: ${r.badLines.length} stdout line(s) are not Singer JSON`);
          if (!killing) c.ok(r.code === 0, `final run exit ${r.code ?? r.signal}, expected 0`);
        }
        c.ok(kills >= 1, 'no run was killed');
        return finish('kill -9 at random points ×4, resume', env, runs, exits, c, started, undefined);
      });
    },
  },
  {
    name: 'stdout closed early (| head -1)',
    quick: true,
    group: 'interrupt',
    run: () =>
      syncScenario('stdout closed early (| head -1)', {
        sim: { latencyMs: 5 },
        onLine: (_msg, child, lineNo) => {
          if (lineNo === 1) child.stdout?.destroy();
        },
        exit: 0,
        check: (r, _env, c) => {
          c.ok(r.ms < 20_000, `took ${r.ms} ms to notice the closed stdout`);
          c.ok(errorLines(r.stderr).length === 0, `error line after a closed stdout: ${errorLines(r.stderr)[0] ?? ''}`);
        },
        // nothing after the first line reaches the reader
        expected: () => new Set(),
      }),
  },

  // ---------------------------------------------------------------- bad input
  ...badInputScenarios(),
];

/** @returns {Scenario[]} */
function badInputScenarios() {
  const good = (/** @type {string} */ url) => ({ gitlab_base_url: url || 'http://127.0.0.1:9', gitlab_token: TOKEN, auto_discover_projects: true });
  /** @param {string} name @param {Parameters<typeof failingRun>[1]} plan @param {boolean} [quick] @returns {Scenario} */
  const input = (name, plan, quick = true) => ({ name, quick, group: 'input', run: () => failingRun(name, plan) });
  const config = (/** @type {string} */ text) => (/** @type {ReturnType<typeof scratch>} */ s) => ['--config', s.file('config.json', text)];
  const withState = (/** @type {unknown} */ state) => (/** @type {ReturnType<typeof scratch>} */ s) => ['--config', s.file('config.json', good('')), '--state', s.file('state.json', state)];
  const withCatalog = (/** @type {unknown} */ cat) => (/** @type {ReturnType<typeof scratch>} */ s) => ['--config', s.file('config.json', good('')), '--catalog', s.file('catalog.json', cat)];
  const names = (/** @type {string} */ flag) => (/** @type {string[]} */ args) => argOf(args, flag);
  return [
    input('bad config: not JSON', { files: config('{"gitlab_token": "x",'), exit: 2, message: /config file .* is not valid JSON/, names: names('config') }),
    input('bad config: a list', { files: config('[1, 2]'), exit: 2, message: /config file .* must hold a JSON object/, names: names('config') }),
    input('bad config: wrong types', {
      files: config(JSON.stringify({ ...good(''), page_size: 'lots', max_retries: -1 })),
      exit: 2,
      message: /page_size must be a whole number/,
      names: names('config'),
    }),
    input('bad config: missing file', { files: () => ['--config', 'no-such-config.json'], exit: 2, message: /config file no-such-config\.json does not exist/, names: names('config') }),
    input('bad config: token a number', {
      files: config(JSON.stringify({ gitlab_base_url: 'https://gitlab.example.com', gitlab_token: 12345678, auto_discover_projects: true })),
      exit: 2,
      message: /gitlab_token must be .*got a number/,
      names: names('config'),
      extra: (r, c) => c.ok(!r.stderr.includes('12345678'), 'the (numeric) token value is shown'),
    }),
    input('bad state: not JSON', { files: withState('{"bookmarks": '), exit: 2, message: /state file .* is not valid JSON/, names: names('state') }),
    input('bad state: wrong types', { files: withState({ bookmarks: [] }), exit: 2, message: /bookmarks.* must be an object/, names: names('state') }),
    input('bad state: another version', { files: withState({ version: 7, bookmarks: {} }), exit: 2, message: /version 7/, names: names('state') }),
    input('bad catalog: not JSON', { files: withCatalog('{"streams": [}'), exit: 2, message: /catalog file .* is not valid JSON/, names: names('catalog') }),
    input('bad catalog: wrong types', { files: withCatalog({ streams: 5 }), exit: 2, message: /catalog.*streams/, names: names('catalog') }),
    input('base URL typo (htps://)', { files: config(JSON.stringify({ ...good(''), gitlab_base_url: 'htps://gitlab.example.com' })), exit: 2, message: /gitlab_base_url must be an http:\/\/ or https:\/\/ URL/ }),
    input('base URL without scheme', { files: config(JSON.stringify({ ...good(''), gitlab_base_url: 'gitlab.example.com' })), exit: 2, message: /gitlab_base_url must be/ }),
    {
      name: 'unreachable host (closed port)',
      quick: true,
      group: 'input',
      run: async () => {
        const port = await closedPort();
        return failingRun('unreachable host (closed port)', {
          files: (s) => ['--config', s.file('config.json', good(`http://127.0.0.1:${port}`))],
          exit: 1,
          oneLine: false,
          stdoutOk: true,
          message: /Could not reach GitLab at http:\/\/127\.0\.0\.1:\d+ .*connection was refused \(ECONNREFUSED\)/,
        });
      },
    },
    input('DNS failure (.invalid, resolved locally)', {
      files: (s) => ['--config', s.file('config.json', good('https://gitlab.invalid'))],
      dnsStub: true,
      exit: 1,
      oneLine: false,
      stdoutOk: true,
      message: /Could not reach GitLab at https:\/\/gitlab\.invalid .*does not resolve \(ENOTFOUND\)/,
    }),
    input('TLS error (https to an http port)', {
      files: async (s) => {
        const port = await closedPort();
        const srv = http.createServer((_q, r) => r.end('{}'));
        await new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(undefined)));
        tlsServers.push(srv);
        return ['--config', s.file('config.json', good(`https://127.0.0.1:${port}`))];
      },
      exit: 1,
      oneLine: false,
      stdoutOk: true,
      message: /Could not reach GitLab at https:\/\/127\.0\.0\.1:\d+ .*TLS/,
      extra: () => closeTlsServers(),
    }),
    {
      name: 'base URL with a wrong path',
      quick: true,
      group: 'input',
      run: () =>
        syncScenario('base URL with a wrong path', {
          config: (env) => ({ gitlab_base_url: `${env.url}/gitlab` }),
          exit: 1,
          resumes: 0,
          stderr: /tap-gitlab: GitLab answered 404 to GET \/gitlab\/api\/v4\/projects/,
          expected: () => new Set(),
          check: (r, _env, c) => c.ok(/gitlab_base_url/.test(errorLines(r.stderr)[0] ?? ''), `the 404 line does not point at gitlab_base_url: ${errorLines(r.stderr)[0] ?? ''}`),
        }),
    },
    input('plain http:// to a remote host warns', {
      files: (s) => ['--config', s.file('config.json', { ...good('http://gitlab.invalid'), max_retries: 0 })],
      dnsStub: true,
      exit: 1,
      oneLine: false,
      stdoutOk: true,
      message: /Could not reach GitLab/,
      extra: (r, c) => c.ok(/WARN .*http:\/\/.*(plain|unencrypted|not encrypted|https)/i.test(r.stderr), `no warning about plain http: ${firstLine(r.stderr)}`),
    }),
    {
      name: 'state of an older layout (singer-io)',
      quick: true,
      group: 'input',
      // bookmarks.<stream>.<project_id>: accepted; the bookmarks are older than every record
      run: () => syncScenario('state of an older layout (singer-io)', { state: { bookmarks: { merge_requests: { 100: '2000-01-01T00:00:00Z', 107: { updated_at: '2000-01-01T00:00:00Z' } } }, currently_syncing: null } }),
    },
    {
      name: 'state of another tap',
      quick: true,
      group: 'input',
      run: () => syncScenario('state of another tap', { state: { currently_syncing: 'issues', bookmarks: { 'octo/repo': { issues: { since: '2024-01-01T00:00:00Z' } } } } }),
    },
  ];
}

/** @type {http.Server[]} */
const tlsServers = [];
function closeTlsServers() {
  for (const s of tlsServers.splice(0)) s.close();
}

/** Files newer than the build (dist/tap-gitlab.cjs) under lib/ (a stale build makes the suite test old code). */
export function staleBuild() {
  if (!existsSync(DIST_CLI)) return ['dist/tap-gitlab.cjs is missing'];
  const built = statSync(DIST_CLI).mtimeMs;
  /** @type {string[]} */
  const out = [];
  const walk = (/** @type {string} */ dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && statSync(p).mtimeMs > built) out.push(p.slice(ROOT.length));
    }
  };
  walk(join(ROOT, 'lib'));
  return out;
}
