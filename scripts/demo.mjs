#!/usr/bin/env node
// @ts-check
/**
 * `npm run demo`: tap-gitlab without a GitLab. Starts the local GitLab simulator (test/simulator/),
 * runs a full sync with the built bin/tap-gitlab, changes a few merge requests, runs an incremental
 * sync from the state the first run printed, writes the Singer output to ./demo-output/ and prints
 * a short summary. Needs `npm run build` first (the npm script does it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../test/simulator/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tap-gitlab');
const OUT = join(process.cwd(), 'demo-output');

/**
 * Runs the tap; resolves with its stdout text, stderr text, exit code and duration.
 * @param {string[]} args
 * @returns {Promise<{ stdout: string, stderr: string, code: number | null, ms: number }>}
 */
function runTap(args) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    for (const k of Object.keys(env)) if (k.startsWith('TAP_GITLAB_')) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    /** @type {Buffer[]} */ const out = [];
    /** @type {Buffer[]} */ const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, ms: Date.now() - started }),
    );
  });
}

/**
 * Counts Singer messages by kind and returns the last STATE value.
 * @param {string} text
 */
function summarise(text) {
  /** @type {Record<string, number>} */
  const records = {};
  let states = 0;
  /** @type {unknown} */
  let lastState = null;
  /** @type {Set<number>} */
  const projectsWithMrs = new Set();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = JSON.parse(line);
    if (m.type === 'RECORD') records[m.stream] = (records[m.stream] ?? 0) + 1;
    if (m.type === 'RECORD' && m.stream === 'merge_requests') projectsWithMrs.add(m.record.project_id);
    else if (m.type === 'STATE') {
      states++;
      lastState = m.value;
    }
  }
  return { records, states, lastState, projectsWithMrs };
}

/** @param {Record<string, number>} r */
const fmtRecords = (r) => ['projects', 'merge_requests', 'users'].map((s) => `${s} ${r[s] ?? 0}`).join(', ');

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'tap-gitlab.cjs'))) {
    process.stderr.write('demo: dist/tap-gitlab.cjs is missing; run `npm run build` first (or `npm run demo`, which builds).\n');
    return 1;
  }
  const sim = await startSimulator({ seed: 1, projects: 25, mergeRequestsPerProject: 40, users: 60 });
  const work = await mkdtemp(join(tmpdir(), 'tap-gitlab-demo-'));
  try {
    await mkdir(OUT, { recursive: true });
    const configPath = join(work, 'config.json');
    // The simulator's token is a local fake; the config stays in a temp dir all the same.
    await writeFile(configPath, JSON.stringify({ gitlab_token: sim.token, gitlab_base_url: sim.url, auto_discover_projects: true }, null, 2));
    process.stdout.write(`GitLab simulator at ${sim.url}: ${sim.dataset.projects.length} projects, ${sim.dataset.mergeRequests.length} merge requests, ${sim.dataset.users.length} users.\n\n`);

    // 1. Full sync.
    sim.reset();
    const full = await runTap(['--config', configPath]);
    const fullStats = sim.stats();
    if (full.code !== 0) throw new Error(`the full sync exited ${full.code}:\n${full.stderr}`);
    const fullSum = summarise(full.stdout);
    await writeFile(join(OUT, 'full.jsonl'), full.stdout);
    const statePath = join(OUT, 'state.json');
    await writeFile(statePath, `${JSON.stringify(fullSum.lastState, null, 2)}\n`);

    // 2. Someone works on a few merge requests of the synced projects.
    const changed = sim.mutate((api) => {
      const withMrs = [...fullSum.projectsWithMrs].slice(0, 3);
      const ids = [];
      for (const pid of withMrs) {
        const own = api.dataset.mergeRequests.filter((m) => m.project_id === pid).slice(0, 2);
        for (const m of own) ids.push(api.updateMergeRequest(m.id).id);
      }
      ids.push(api.createMergeRequest(/** @type {number} */ (withMrs[0])).id);
      return ids;
    });

    // 3. Incremental sync from the state the full sync printed last.
    sim.reset();
    const inc = await runTap(['--config', configPath, '--state', statePath]);
    const incStats = sim.stats();
    if (inc.code !== 0) throw new Error(`the incremental sync exited ${inc.code}:\n${inc.stderr}`);
    const incSum = summarise(inc.stdout);
    await writeFile(join(OUT, 'incremental.jsonl'), inc.stdout);
    await writeFile(statePath, `${JSON.stringify(incSum.lastState, null, 2)}\n`);

    const rel = relative(process.cwd(), OUT) || '.';
    const lines = [
      `Full sync:        ${fmtRecords(fullSum.records)}; ${fullSum.states} STATE lines; ${fullStats.requests} requests; ${(full.ms / 1000).toFixed(1)} s`,
      `Changed between the runs: ${changed.length} merge requests (${changed.length - 1} updated, 1 created)`,
      `Incremental sync: ${fmtRecords(incSum.records)}; ${incSum.states} STATE lines; ${incStats.requests} requests; ${(inc.ms / 1000).toFixed(1)} s`,
      '',
      'Singer output:',
      `  ${rel}/full.jsonl         the full sync (SCHEMA, RECORD and STATE lines)`,
      `  ${rel}/incremental.jsonl  the incremental sync`,
      `  ${rel}/state.json         the last STATE: pass it with --state to resume from here`,
      '',
      'Look at it:',
      `  jq -c 'select(.type=="RECORD" and .stream=="merge_requests") | .record | {id, title, state, updated_at}' ${rel}/incremental.jsonl`,
      `  jq -r 'select(.type=="RECORD") | .stream' ${rel}/full.jsonl | sort | uniq -c`,
      '',
      'Against your own GitLab: put gitlab_token and gitlab_base_url in a config.json and run',
      '  node bin/tap-gitlab --config config.json > output.jsonl',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
