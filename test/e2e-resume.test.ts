/**
 * End to end: a run killed with SIGKILL at seeded points resumes from the last STATE line it printed,
 * and `max_records_per_sync` chunks add up to a full sync. In both, the union of the runs is checked.
 */
import t from 'tap';
import { startSimulator } from './simulator/server.mjs';
import {
  compareIds, emitted, expectedIds, lastState, missingBuild, outputProblems, recordIds, runTap, seededRandom, simConfig, tempDir,
  tokenAbsent, type Expected, type Json, type SingerMessage, type TapRun,
} from './helpers/e2e.js';

function union(runs: SingerMessage[][]): Expected {
  const all: Expected = { projects: new Set(), mergeRequests: new Set(), users: new Set() };
  for (const messages of runs) {
    const e = emitted(messages);
    for (const k of ['projects', 'mergeRequests', 'users'] as const) for (const id of e[k]) all[k].add(id);
  }
  return all;
}

const skip = missingBuild();
if (skip) {
  t.comment(skip);
  t.pass('skipped: the end-to-end tests need the build', { skip });
} else {
  const sim = await startSimulator({ seed: 3, projects: 30, mergeRequestsPerProject: 50, users: 60 });
  const tmp = await tempDir();
  t.teardown(async () => {
    await sim.close();
    await tmp.cleanup();
  });
  const want = expectedIds(sim.dataset);
  // page_size 50 and concurrency 2: more STATE lines, and a kill lands between pages more often.
  const config = simConfig(sim, { page_size: 50, max_concurrency: 2 });

  const reference = await runTap({ dir: tmp.dir, config, name: 'reference' });
  const totalLines = reference.messages.length;

  t.test('the uninterrupted run is complete (the reference for the kill points)', async (t) => {
    t.equal(reference.code, 0, 'exit 0', { stderr: reference.stderr.slice(-1000) });
    t.same(compareIds(emitted(reference.messages), want).mergeRequests, { missing: [], extra: [] }, 'every merge request');
    t.ok(totalLines > 500, `enough lines to kill in the middle (${totalLines})`);
  });

  const random = seededRandom(20240601);
  const points = [3, ...[0, 1, 2].map(() => 10 + Math.floor(random() * (totalLines - 60)))];
  for (const killAt of points) {
    t.test(`a run killed with SIGKILL after ${killAt} lines resumes from its last STATE; together the runs emit everything`, async (t) => {
      const killed = await runTap({ dir: tmp.dir, config, killAfterLines: killAt, name: `kill-${killAt}` });
      t.equal(killed.signal, 'SIGKILL', 'the first run was killed');
      t.ok(killed.messages.length < totalLines, `it stopped before the end (${killed.messages.length} of ${totalLines} lines)`);
      t.same(outputProblems(killed.messages), [], 'what it printed is valid');
      const state = lastState(killed.messages);
      const resumed: TapRun = await runTap({ dir: tmp.dir, config, state, name: `resume-${killAt}` });
      t.equal(resumed.code, 0, 'the resumed run exits 0', { stderr: resumed.stderr.slice(-1000) });
      t.same(outputProblems(resumed.messages), [], 'the resumed run output is valid');
      t.match(lastState(resumed.messages), { last_sync_completed_at: String }, 'the resumed run completes');
      // Only what the last STATE covers counts from the killed run: records printed after it may be in no bookmark,
      // so the resumed run must bring them again (a union of everything would hide a bookmark that ran ahead).
      const cut = killed.messages.map((m) => m.type).lastIndexOf('STATE');
      const covered = killed.messages.slice(0, cut + 1);
      const d = compareIds(union([covered, resumed.messages]), want);
      t.same(d, { projects: { missing: [], extra: [] }, mergeRequests: { missing: [], extra: [] }, users: { missing: [], extra: [] } }, 'the union is exactly the expected ids');
      const mrBookmarks = (state?.bookmarks?.merge_requests?.partitions ?? []) as Json[];
      if (mrBookmarks.length > 0) {
        t.ok(recordIds(resumed.messages, 'merge_requests').length < want.mergeRequests.size, 'the resumed run does not start over');
      }
      t.ok(tokenAbsent(killed, sim.token) && tokenAbsent(resumed, sim.token), 'no token in the output');
    });
  }

  t.test('max_records_per_sync chunks: runs resumed until one completes emit everything together', async (t) => {
    const budget = 250;
    const chunked = { ...config, max_records_per_sync: budget };
    const runs: SingerMessage[][] = [];
    let state: Json | null = null;
    for (let i = 0; i < 40; i++) {
      const run = await runTap({ dir: tmp.dir, config: chunked, state, name: `chunk-${i}` });
      t.equal(run.code, 0, `chunk ${i} exits 0`, { stderr: run.stderr.slice(-1000) });
      t.same(outputProblems(run.messages), [], `chunk ${i} output is valid`);
      t.ok(tokenAbsent(run, sim.token), `chunk ${i}: no token in the output`);
      runs.push(run.messages);
      state = lastState(run.messages);
      const records = run.messages.filter((m) => m.type === 'RECORD').length;
      if (state?.last_sync_completed_at) break;
      t.ok(records > 0, `chunk ${i} makes progress (${records} records)`);
      // A page in flight per worker may finish after the budget is reached, plus its users.
      t.ok(records <= budget + 2 * 50 + 100, `chunk ${i} stays near the budget (${records} records)`);
    }
    t.match(state, { last_sync_completed_at: String }, 'a run completed');
    const total = want.projects.size + want.mergeRequests.size + want.users.size;
    t.ok(runs.length >= Math.ceil(total / (budget + 200)), `the budget split the sync (${runs.length} runs for ${total} records)`);
    t.same(compareIds(union(runs), want), { projects: { missing: [], extra: [] }, mergeRequests: { missing: [], extra: [] }, users: { missing: [], extra: [] } }, 'the union is exactly the expected ids');
  });
}
