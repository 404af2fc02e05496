/**
 * End-to-end helpers: run the built `bin/tap-gitlab` as a child process against the simulator, collect
 * its Singer output line by line, and compute the ids a run must emit from the simulator's ground truth
 * (independently of lib/: the selection rules are restated here with minimatch).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minimatch } from 'minimatch';
import split2 from 'split2';
import type { Test } from 'tap';
import { validateRecord } from '../../lib/singer/schema-contract.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO_ROOT, 'bin', 'tap-gitlab');
export const DIST_CLI = join(REPO_ROOT, 'dist', 'tap-gitlab.cjs');

/** A reason to skip the end-to-end tests (no build), or false when they can run. */
export function missingBuild(): string | false {
  return existsSync(DIST_CLI) ? false : `${DIST_CLI} is missing: run \`npm run build\` first (the end-to-end tests run the built bin/tap-gitlab)`;
}

export type Json = Record<string, any>;

export interface SingerMessage {
  type: string;
  stream?: string;
  record?: Json;
  schema?: Json;
  value?: Json;
  [k: string]: unknown;
}

export interface TapRun {
  /** Every complete stdout line, parsed. */
  messages: SingerMessage[];
  /** Raw stdout lines (complete ones). */
  lines: string[];
  /** A last line cut by a kill, if any. */
  partial: string | null;
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

export interface RunTapOptions {
  /** Directory for the config and state files. */
  dir: string;
  config: Json;
  /** State object (written to a file and passed with --state); none when absent or null. */
  state?: Json | null;
  /** Send SIGKILL once this many stdout lines have arrived. */
  killAfterLines?: number;
  extraArgs?: string[];
  /** Name of the files of this run (default "run"). */
  name?: string;
}

/** Runs the built tap once; resolves when the process has exited and its pipes are drained. */
export async function runTap(opts: RunTapOptions): Promise<TapRun> {
  const name = opts.name ?? 'run';
  const configPath = join(opts.dir, `${name}-config.json`);
  await writeFile(configPath, JSON.stringify(opts.config));
  const args = [BIN, '--config', configPath];
  if (opts.state) {
    const statePath = join(opts.dir, `${name}-state.json`);
    await writeFile(statePath, JSON.stringify(opts.state));
    args.push('--state', statePath);
  }
  args.push(...(opts.extraArgs ?? []));
  const started = Date.now();
  // Through env(1) without NODE_OPTIONS: node-tap's processinfo hooks spawned node processes by putting its
  // loader back into NODE_OPTIONS, which breaks the extensionless ESM bin. env execs node: same pid for SIGKILL.
  const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.dir, env: cleanEnv() });
  const lines: string[] = [];
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  let killed = false;
  child.stdout.on('data', (c: Buffer) => stdoutChunks.push(c));
  child.stderr.on('data', (c: Buffer) => stderrChunks.push(c));
  const stdoutDone = new Promise<void>((resolve, reject) => {
    child.stdout
      .pipe(split2())
      .on('data', (line: string) => {
        lines.push(line);
        if (!killed && opts.killAfterLines !== undefined && lines.length >= opts.killAfterLines) {
          killed = true;
          child.kill('SIGKILL');
        }
      })
      .on('end', () => resolve())
      .on('error', reject);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const [{ code, signal }] = await Promise.all([exited, stdoutDone]);
  const stdout = Buffer.concat(stdoutChunks).toString('utf8');
  // A kill can cut the last line: split2 hands it over at the end without its newline.
  let partial: string | null = null;
  if (lines.length > 0 && !stdout.endsWith('\n')) partial = lines.pop() ?? null;
  const messages = lines.filter((l) => l !== '').map((l) => JSON.parse(l) as SingerMessage);
  return { messages, lines, partial, stdout, stderr: Buffer.concat(stderrChunks).toString('utf8'), code, signal, ms: Date.now() - started };
}

/**
 * The environment for the tap process: this one without the test runner's hooks (tap preloads its
 * loaders through NODE_OPTIONS, which must not reach the built tap) and without TAP_GITLAB_* settings.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('TAP') || k.startsWith('_TAPJS') || k.startsWith('TS_NODE')) continue;
    env[k] = v;
  }
  return env;
}

/** A temp directory removed by the returned cleanup. */
export async function tempDir(prefix = 'tap-gitlab-e2e-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The tap config for a simulator, with overrides. */
export function simConfig(sim: { url: string; token: string }, over: Json = {}): Json {
  return { gitlab_token: sim.token, gitlab_base_url: sim.url, auto_discover_projects: true, ...over };
}

export interface SelectionRules {
  /** project_name_pattern: a comma-separated string or a list; default "*". */
  patterns?: string | string[];
  includePrivate?: boolean;
  includeArchived?: boolean;
}

export interface Expected {
  projects: Set<number>;
  mergeRequests: Set<number>;
  users: Set<number>;
}

function patternList(p: string | string[] | undefined): string[] {
  const list = p === undefined ? ['*'] : Array.isArray(p) ? p : p.split(',');
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

function globMatch(project: Json, pattern: string): boolean {
  const o = { nocase: true, dot: true };
  if (pattern.includes('/')) return minimatch(String(project.path_with_namespace), pattern, o);
  return minimatch(String(project.path), pattern, o) || minimatch(String(project.name), pattern, o);
}

/** True when a project is one auto-discovery must select. */
export function isSelected(project: Json, rules: SelectionRules = {}): boolean {
  const list = patternList(rules.patterns);
  const exclude = list.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  let include = list.filter((p) => !p.startsWith('!'));
  if (include.length === 0) include = ['*'];
  if (project.permissions?.project_access == null) return false; // member projects only
  if (exclude.some((p) => globMatch(project, p))) return false;
  if (!include.some((p) => globMatch(project, p))) return false;
  if (project.archived === true && rules.includeArchived !== true) return false;
  if ((project.marked_for_deletion_on ?? project.marked_for_deletion_at) && rules.includeArchived !== true) return false;
  if (project.visibility !== 'public' && rules.includePrivate === false) return false;
  return true;
}

/** Ids of the users a merge request references. */
export function peopleOf(mr: Json): number[] {
  const out: number[] = [];
  for (const u of [mr.author, mr.assignee, ...(mr.assignees ?? []), ...(mr.reviewers ?? []), mr.merge_user, mr.merged_by, mr.closed_by]) {
    if (u && typeof u.id === 'number') out.push(u.id);
  }
  return out;
}

/** What a full sync must emit, from the simulator's dataset as it is now. */
export function expectedIds(dataset: { projects: Json[]; mergeRequests: Json[] }, rules: SelectionRules = {}): Expected {
  const projects = dataset.projects.filter((p) => isSelected(p, rules));
  const enabled = new Set(projects.filter((p) => p.merge_requests_enabled !== false).map((p) => p.id as number));
  const mrs = dataset.mergeRequests.filter((m) => enabled.has(m.project_id));
  const users = new Set<number>();
  for (const m of mrs) for (const id of peopleOf(m)) users.add(id);
  return { projects: new Set(projects.map((p) => p.id as number)), mergeRequests: new Set(mrs.map((m) => m.id as number)), users };
}

/** Record ids of a stream, in output order (duplicates kept). */
export function recordIds(messages: SingerMessage[], stream: string): number[] {
  const out: number[] = [];
  for (const m of messages) if (m.type === 'RECORD' && m.stream === stream) out.push(Number(m.record?.id));
  return out;
}

/** Emitted ids of every stream, as sets. */
export function emitted(messages: SingerMessage[]): Expected {
  return {
    projects: new Set(recordIds(messages, 'projects')),
    mergeRequests: new Set(recordIds(messages, 'merge_requests')),
    users: new Set(recordIds(messages, 'users')),
  };
}

/** The differences between what was emitted and what was expected, per stream (empty lists when equal). */
export function compareIds(got: Expected, want: Expected): Record<keyof Expected, { missing: number[]; extra: number[] }> {
  const diff = (g: Set<number>, w: Set<number>) => ({
    missing: [...w].filter((id) => !g.has(id)).sort((a, b) => a - b),
    extra: [...g].filter((id) => !w.has(id)).sort((a, b) => a - b),
  });
  return { projects: diff(got.projects, want.projects), mergeRequests: diff(got.mergeRequests, want.mergeRequests), users: diff(got.users, want.users) };
}

/**
 * Problems of a Singer message sequence: a RECORD before its stream's SCHEMA, a RECORD that does not
 * validate against that SCHEMA, an unknown message type, a STATE without an object value.
 * At most `limit` problems are listed.
 */
export function outputProblems(messages: SingerMessage[], limit = 20): string[] {
  const schemas = new Map<string, Json>();
  const problems: string[] = [];
  messages.forEach((m, i) => {
    if (problems.length >= limit) return;
    if (m.type === 'SCHEMA') {
      if (typeof m.stream !== 'string' || typeof m.schema !== 'object' || m.schema === null) problems.push(`line ${i + 1}: SCHEMA without stream or schema`);
      else schemas.set(m.stream, m.schema);
    } else if (m.type === 'RECORD') {
      const schema = schemas.get(String(m.stream));
      if (!schema) {
        problems.push(`line ${i + 1}: RECORD of ${String(m.stream)} before its SCHEMA`);
        return;
      }
      for (const p of validateRecord(schema, m.record)) problems.push(`line ${i + 1}: ${String(m.stream)} ${String(m.record?.id)}: ${p}`);
    } else if (m.type === 'STATE') {
      if (typeof m.value !== 'object' || m.value === null) problems.push(`line ${i + 1}: STATE without an object value`);
    } else {
      problems.push(`line ${i + 1}: unknown message type ${JSON.stringify(m.type)}`);
    }
  });
  return problems.slice(0, limit);
}

/** The value of the last complete STATE line, or null. */
export function lastState(messages: SingerMessage[]): Json | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.type === 'STATE' && m.value) return m.value;
  }
  return null;
}

/** Merge-request bookmark (replication_key_value) per project id in a state. */
export function mergeRequestBookmarks(state: Json | null): Map<number, string> {
  const out = new Map<number, string>();
  const parts: unknown = state?.bookmarks?.merge_requests?.partitions;
  if (!Array.isArray(parts)) return out;
  for (const p of parts as Json[]) out.set(Number(p.context?.project_id), String(p.replication_key_value));
  return out;
}

/** True when neither stdout nor stderr contains the token. */
export function tokenAbsent(run: TapRun, token: string): boolean {
  return !run.stdout.includes(token) && !run.stderr.includes(token) && !(run.partial ?? '').includes(token);
}

/** Seeded PRNG (mulberry32) for reproducible kill points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The assertions every end-to-end run shares: valid output, exactly the expected ids, no token. */
export function assertRun(t: Test, run: TapRun, want: Expected, token: string, label = 'the run'): void {
  t.same(outputProblems(run.messages), [], `${label}: SCHEMA before RECORD and every RECORD valid against its SCHEMA`);
  const d = compareIds(emitted(run.messages), want);
  t.same(d.projects, { missing: [], extra: [] }, `${label}: every expected project, none extra (${want.projects.size})`);
  t.same(d.mergeRequests, { missing: [], extra: [] }, `${label}: every expected merge request, none extra (${want.mergeRequests.size})`);
  t.same(d.users, { missing: [], extra: [] }, `${label}: every expected user, none extra (${want.users.size})`);
  t.ok(tokenAbsent(run, token), `${label}: the token appears neither on stdout nor on stderr`);
}
