/**
 * End to end: 429 storms (Rack::Attack answers with Retry-After, a throttle window with RateLimit-*
 * headers) and 10% 5xx answers (JSON and HTML pages). The tap retries and the output is still complete.
 * Waits asked by the simulator are 0-1 s so that the file runs in seconds.
 */
import t from 'tap';
import { startSimulator } from './simulator/server.mjs';
import { assertRun, expectedIds, missingBuild, runTap, simConfig, tempDir } from './helpers/e2e.js';

const skip = missingBuild();
if (skip) {
  t.comment(skip);
  t.pass('skipped: the end-to-end tests need the build', { skip });
} else {
  const sim = await startSimulator({ seed: 5, projects: 24, mergeRequestsPerProject: 30, users: 40 });
  const tmp = await tempDir();
  t.teardown(async () => {
    await sim.close();
    await tmp.cleanup();
  });
  const want = expectedIds(sim.dataset);

  // Each 429 also says RateLimit-Remaining: 0 until the next whole second, which the tap honours: ~1 s per 429.
  t.test('a storm of 429s with Retry-After: 0 on 30% of the requests is ridden out', async (t) => {
    sim.control({ faults: { rack429Rate: 0.3, retryAfterSeconds: 0, seed: 11 }, rateLimit: null });
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim), name: 'storm' });
    const stats = sim.stats();
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1000) });
    t.ok((stats.statuses['429'] ?? 0) >= 4, `the simulator answered 429s (${stats.statuses['429']})`);
    assertRun(t, run, want, sim.token);
  });

  t.test('a throttle of 8 requests per 300 ms window is respected: the tap paces itself on RateLimit-Remaining', async (t) => {
    sim.control({ faults: null, rateLimit: { limit: 8, windowMs: 300 } });
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim), name: 'throttle' });
    const stats = sim.stats();
    sim.control({ rateLimit: null });
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1000) });
    t.ok(stats.requests > 16, `the run spans several windows (${stats.requests} requests)`);
    t.ok(stats.rateLimited <= 2, `few or no request is throttled (${stats.rateLimited})`);
    assertRun(t, run, want, sim.token);
  });

  t.test('10% of answers being 5xx (JSON and HTML error pages) does not lose or duplicate anything', async (t) => {
    // The 5xx pages quote the request, token included: the tap must not repeat it (warnings quote error pages).
    sim.control({ faults: { errorRate: 0.1, htmlErrors: true, echoRequest: true, seed: 7 }, rateLimit: null });
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim, { page_size: 20 }), name: 'errors' });
    const stats = sim.stats();
    sim.control({ faults: null });
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1000) });
    t.ok((stats.faults.error ?? 0) >= 3, `the simulator answered 5xx (${stats.faults.error})`);
    assertRun(t, run, want, sim.token);
    const mrRecords = run.messages.filter((m) => m.type === 'RECORD' && m.stream === 'merge_requests').length;
    t.equal(mrRecords, want.mergeRequests.size, 'a retried page is emitted once');
  });

  t.test('an error page that quotes the request, token included, is reported without the token', async (t) => {
    sim.control({ faults: { errorRate: 1, echoRequest: true, seed: 3, routes: ['GET /projects/:id/merge_requests'] }, rateLimit: null });
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim, { max_retries: 0 }), extraArgs: ['--log-level', 'debug'], name: 'echo' });
    sim.control({ faults: null });
    t.equal(run.code, 1, 'the run fails on the 5xx');
    t.match(run.stderr, /tap-gitlab: .*GitLab answered 5\d\d to GET \/api\/v4\/projects\/\d+\/merge_requests/, 'the final error names the answer');
    t.match(run.stderr, /upstream failed for GET|<pre>GET|\[REDACTED\]|\*\*\*/, "and quotes GitLab's side of it");
    t.notOk(run.stderr.includes(sim.token) || run.stdout.includes(sim.token), 'but never the token');
  });
}
