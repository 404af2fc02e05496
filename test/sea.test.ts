/**
 * The single executable built by `npm run build:sea` (fivetran/bin/tap-gitlab) runs without the
 * repository's node_modules: it prints the catalog and --about. Skipped, with the reason, when the
 * executable has not been built (building takes ~10 s and ~100 MB, so it is a separate step).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exe = `${root}fivetran/bin/tap-gitlab`;
const built = existsSync(exe);
const skip = built ? false : 'fivetran/bin/tap-gitlab not built: run `npm run build:sea` first';

/** Runs the executable from a directory without node_modules, with no NODE_* variables that could help it. */
function runExe(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const r = spawnSync(exe, args, { cwd: '/', env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like runExe, but asynchronous: the simulator serves from this process meanwhile. */
function runExeAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: '/', env: { PATH: '/usr/bin:/bin' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

t.test('the executable prints a catalog with the three streams on --discover', { skip }, async (t) => {
  const r = runExe(['--discover']);
  t.equal(r.status, 0, r.stderr);
  const catalog = JSON.parse(r.stdout) as { streams: Array<{ tap_stream_id: string; key_properties: string[] }> };
  t.same(catalog.streams.map((s) => s.tap_stream_id).sort(), ['merge_requests', 'projects', 'users']);
  for (const s of catalog.streams) t.same(s.key_properties, ['id'], `${s.tap_stream_id} is keyed on id`);
  t.notMatch(r.stderr, /ExperimentalWarning|single executable/i, 'no SEA warning on stderr');
});

const checkedIn = `${root}catalog/catalog.json`;
const skipCatalog = skip || (existsSync(checkedIn) ? false : 'catalog/catalog.json not generated yet (npm run catalog)');

t.test('the executable prints the same catalog as the checked-in catalog/catalog.json', { skip: skipCatalog }, async (t) => {
  const r = runExe(['--discover']);
  t.same(JSON.parse(r.stdout), JSON.parse(readFileSync(checkedIn, 'utf8')));
});

t.test('the executable answers --about --format json with its name and capabilities', { skip }, async (t) => {
  const r = runExe(['--about', '--format', 'json']);
  t.equal(r.status, 0, r.stderr);
  const about = JSON.parse(r.stdout) as { name: string; version: string; capabilities: string[] };
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  t.equal(about.name, 'tap-gitlab');
  t.equal(about.version, pkg.version);
  t.match(about.capabilities, ['catalog', 'discover', 'state', 'about']);
});

t.test('the executable exits 2 with one line naming the problem on a bad config', { skip }, async (t) => {
  const r = runExe(['--config', '/nonexistent/config.json']);
  t.equal(r.status, 2);
  t.match(r.stderr, /config/i);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

const simulatorPath = `${root}test/simulator/server.mjs`;
const skipSync = skip || (existsSync(simulatorPath) ? false : 'test/simulator/server.mjs is absent');

t.test('the executable syncs every member project and its merge requests from the simulator', { skip: skipSync }, async (t) => {
  const { startSimulator } = (await import(simulatorPath)) as {
    startSimulator(o: Record<string, unknown>): Promise<{
      url: string; token: string; close(): Promise<void>;
      dataset: { projects: Array<{ id: number; permissions?: { project_access?: unknown } }>; mergeRequests: Array<{ id: number; project_id: number }> };
    }>;
  };
  const sim = await startSimulator({ port: 0, seed: 3, projects: 6, mergeRequestsPerProject: 15, users: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'tap-gitlab-sea-'));
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ gitlab_token: sim.token, gitlab_base_url: sim.url, auto_discover_projects: 'true', include_archived_projects: 'true' }));
  const r = await runExeAsync(['--config', config]);
  t.equal(r.status, 0, r.stderr);
  const messages = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stream?: string; record?: { id: number } });
  const ids = (stream: string): number[] => messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record?.id ?? -1).sort((a, b) => a - b);
  const members = new Set(sim.dataset.projects.filter((p) => Boolean(p.permissions?.project_access)).map((p) => p.id));
  t.same(ids('projects'), [...members].sort((a, b) => a - b));
  t.same(ids('merge_requests'), sim.dataset.mergeRequests.filter((m) => members.has(m.project_id)).map((m) => m.id).sort((a, b) => a - b));
  t.equal(messages.at(-1)?.type, 'STATE', 'ends with a STATE');
  t.notMatch(r.stdout + r.stderr, sim.token, 'the token is never printed');
});
