/**
 * End to end: the built bin/tap-gitlab against the simulator, full syncs with and without name patterns.
 * The expected ids come from the simulator's dataset with the selection rules restated in test/helpers/e2e.ts.
 */
import t from 'tap';
import { startSimulator } from './simulator/server.mjs';
import { assertRun, expectedIds, lastState, missingBuild, recordIds, runTap, simConfig, tempDir, type SelectionRules } from './helpers/e2e.js';

const skip = missingBuild();
if (skip) {
  t.comment(skip);
  t.pass('skipped: the end-to-end tests need the build', { skip });
} else {
  const sim = await startSimulator({ seed: 1, projects: 40, mergeRequestsPerProject: 30, users: 60 });
  const tmp = await tempDir();
  t.teardown(async () => {
    await sim.close();
    await tmp.cleanup();
  });

  t.test('a full sync emits every selected project, its merge requests and their users, and nothing else', async (t) => {
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim), name: 'full' });
    t.equal(run.code, 0, 'exit code 0', { stderr: run.stderr.slice(-1000) });
    const want = expectedIds(sim.dataset);
    t.ok(want.mergeRequests.size > 500 && want.projects.size > 20, 'the dataset is not trivial');
    assertRun(t, run, want, sim.token);
    t.equal(recordIds(run.messages, 'merge_requests').length, want.mergeRequests.size, 'no merge request is emitted twice');
    t.equal(recordIds(run.messages, 'users').length, want.users.size, 'no user is emitted twice');
    t.match(lastState(run.messages), { last_sync_completed_at: String, currently_syncing: null }, 'the last STATE closes the run');
    const stats = sim.stats();
    t.equal(stats.byRoute['GET /projects'], 1, 'one listing request (40 projects fit in a page)');
    t.equal(stats.byRoute['POST /api/graphql'], 1, 'one GraphQL batch for 60 users');
  });

  const cases: Array<[string, SelectionRules, Record<string, unknown>]> = [
    ['mergemind-* (a prefix glob on path or name)', { patterns: 'mergemind-*' }, { project_name_pattern: 'mergemind-*' }],
    ['*-demo-* (an infix glob)', { patterns: '*-demo-*' }, { project_name_pattern: '*-demo-*' }],
    ['!*-archive (an exclusion alone)', { patterns: '!*-archive' }, { project_name_pattern: '!*-archive' }],
    ['mergemind-*, !*-legacy-* (an inclusion and an exclusion)', { patterns: ['mergemind-*', '!*-legacy-*'] }, { project_name_pattern: 'mergemind-*, !*-legacy-*' }],
    ['mergemind/** (a glob on path_with_namespace)', { patterns: 'mergemind/**' }, { project_name_pattern: 'mergemind/**' }],
    ['infra-*, data-* (two inclusions, no search hint)', { patterns: ['infra-*', 'data-*'] }, { project_name_pattern: ['infra-*', 'data-*'] }],
    ['* without private projects', { includePrivate: false }, { include_private_projects: false }],
  ];
  for (const [name, rules, over] of cases) {
    t.test(`a full sync with ${name} emits exactly the matching projects and their merge requests`, async (t) => {
      const all = expectedIds(sim.dataset);
      const want = expectedIds(sim.dataset, rules);
      t.ok(want.projects.size > 0 && want.projects.size < all.projects.size, `the pattern selects some projects (${want.projects.size} of ${all.projects.size})`);
      const run = await runTap({ dir: tmp.dir, config: simConfig(sim, over), name: 'pattern' });
      t.equal(run.code, 0, 'exit code 0', { stderr: run.stderr.slice(-1000) });
      assertRun(t, run, want, sim.token);
    });
  }

  t.test('users are emitted once each and enriched 100 per GraphQL request when several workers fill batches', async (t) => {
    // 400 users referenced across 30 projects: several projects, read concurrently, each fill a batch of 100.
    const big = await startSimulator({ seed: 9, projects: 30, mergeRequestsPerProject: 60, users: 400 });
    t.teardown(() => big.close());
    const want = expectedIds(big.dataset);
    t.ok(want.users.size > 200, `enough users for several batches (${want.users.size})`);
    const run = await runTap({ dir: tmp.dir, config: simConfig(big, { max_concurrency: 4 }), name: 'batches' });
    t.equal(run.code, 0, 'exit code 0', { stderr: run.stderr.slice(-1000) });
    assertRun(t, run, want, big.token);
    t.equal(recordIds(run.messages, 'users').length, want.users.size, 'no user is emitted twice');
    const batches = big.stats().byRoute['POST /api/graphql'] ?? 0;
    t.ok(batches <= Math.ceil(want.users.size / 100), `at most ⌈U/100⌉ GraphQL requests (${batches} for ${want.users.size} users)`);
  });

  t.test('a token sent as a bearer token is kept out of the output too', async (t) => {
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim, { gitlab_token_type: 'bearer', project_name_pattern: 'mergemind-*' }), name: 'bearer' });
    t.equal(run.code, 0, 'exit code 0', { stderr: run.stderr.slice(-1000) });
    assertRun(t, run, expectedIds(sim.dataset, { patterns: 'mergemind-*' }), sim.token);
  });

  t.test('a wrong token fails with exit 1 and without printing the token', async (t) => {
    const bad = 'glpat-wrong-token-e2e-1234';
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim, { gitlab_token: bad }), name: 'badtoken' });
    t.equal(run.code, 1, 'exit code 1');
    t.equal(run.messages.filter((m) => m.type === 'RECORD').length, 0, 'no record');
    t.match(run.stderr, /401/, 'stderr names the 401');
    t.notOk(run.stdout.includes(bad) || run.stderr.includes(bad), 'the token appears neither on stdout nor on stderr');
  });
}
