/**
 * End to end: incremental runs after changes, and changes made while the tap is paging.
 */
import t from 'tap';
import { startSimulator } from './simulator/server.mjs';
import {
  assertRun, emitted, expectedIds, lastState, mergeRequestBookmarks, missingBuild, outputProblems, peopleOf, recordIds, runTap, simConfig,
  tempDir, tokenAbsent, type Expected, type Json, type SingerMessage,
} from './helpers/e2e.js';

/** The last emitted version (updated_at) of every merge request. */
function lastVersions(messages: SingerMessage[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of messages) if (m.type === 'RECORD' && m.stream === 'merge_requests') out.set(Number(m.record?.id), String(m.record?.updated_at));
  return out;
}

const skip = missingBuild();
if (skip) {
  t.comment(skip);
  t.pass('skipped: the end-to-end tests need the build', { skip });
} else {
  const tmp = await tempDir();
  t.teardown(tmp.cleanup);

  t.test('an incremental run emits exactly what changed and asks one merge request page per project', async (t) => {
    const sim = await startSimulator({ seed: 2, projects: 30, mergeRequestsPerProject: 40, users: 50 });
    t.teardown(() => sim.close());
    const first = await runTap({ dir: tmp.dir, config: simConfig(sim), name: 'inc1' });
    t.equal(first.code, 0, 'the full run exits 0', { stderr: first.stderr.slice(-1000) });
    const full = expectedIds(sim.dataset);
    assertRun(t, first, full, sim.token, 'the full run');
    const state1 = lastState(first.messages);
    t.match(state1, { last_sync_completed_at: String }, 'the full run completes');
    const bookmarks = mergeRequestBookmarks(state1);

    // Changes: a few merge requests updated across projects, a few created, one project renamed.
    const selected = sim.dataset.projects.filter((p: Json) => full.projects.has(p.id) && p.merge_requests_enabled !== false);
    const withMrs = selected.filter((p: Json) => sim.dataset.mergeRequests.some((m: Json) => m.project_id === p.id));
    t.ok(withMrs.length >= 4, 'enough projects with merge requests');
    const changed = new Set<number>();
    const changedProject = selected[0] as Json;
    sim.mutate((api) => {
      withMrs.slice(0, 4).forEach((p: Json, i: number) => {
        const own = api.dataset.mergeRequests.filter((m: Json) => m.project_id === p.id);
        for (const m of own.slice(0, i + 1)) changed.add(api.updateMergeRequest(m.id).id);
      });
      changed.add(api.createMergeRequest((withMrs[0] as Json).id).id);
      changed.add(api.createMergeRequest((withMrs[1] as Json).id).id);
      changed.add(api.createMergeRequest((withMrs[1] as Json).id).id);
      api.updateProject(changedProject.id, { description: 'Changed between runs' });
    });
    t.equal(changed.size, 1 + 2 + 3 + 4 + 3, 'the changes are distinct merge requests');

    sim.reset();
    const second = await runTap({ dir: tmp.dir, config: simConfig(sim), state: state1, name: 'inc2' });
    t.equal(second.code, 0, 'the incremental run exits 0', { stderr: second.stderr.slice(-1000) });
    t.same(outputProblems(second.messages), [], 'valid output');
    t.ok(tokenAbsent(second, sim.token), 'no token in the output');
    const got = emitted(second.messages);
    // Rows whose updated_at equals a bookmark may come again (GitLab's updated_after is inclusive).
    const boundary = new Set(
      sim.dataset.mergeRequests.filter((m: Json) => bookmarks.get(m.project_id) === m.updated_at).map((m: Json) => m.id as number),
    );
    t.same([...changed].filter((id) => !got.mergeRequests.has(id)), [], 'every changed merge request is emitted');
    t.same([...got.mergeRequests].filter((id) => !changed.has(id) && !boundary.has(id)), [], 'no other merge request, apart from boundary rows');
    t.equal(recordIds(second.messages, 'merge_requests').length, got.mergeRequests.size, 'each at most once');
    const versions = lastVersions(second.messages);
    const stale = sim.dataset.mergeRequests.filter((m: Json) => changed.has(m.id) && versions.get(m.id) !== m.updated_at);
    t.same(stale.map((m: Json) => m.id), [], 'the emitted versions are the current ones');
    const people = new Set<number>();
    for (const m of sim.dataset.mergeRequests) if (got.mergeRequests.has(m.id)) for (const id of peopleOf(m)) people.add(id);
    t.same([...got.users].sort((a, b) => a - b), [...people].sort((a, b) => a - b), 'the users are the people of the emitted merge requests');
    t.same([...got.projects], [changedProject.id], 'only the changed project is emitted');
    const stats = sim.stats();
    t.equal(stats.byRoute['GET /projects/:id/merge_requests'], full.projects.size, 'one merge request request per selected project');
    t.ok((stats.byRoute['GET /projects'] ?? 0) <= 1, 'at most one project listing request');
    t.equal(stats.byRoute['POST /api/graphql'] ?? 0, 1, 'one users batch');
    const state2 = lastState(second.messages);
    t.match(state2, { last_sync_completed_at: String }, 'the incremental run completes');

    sim.reset();
    const third = await runTap({ dir: tmp.dir, config: simConfig(sim), state: state2, name: 'inc3' });
    t.equal(third.code, 0, 'a run without changes exits 0');
    t.equal(third.messages.filter((m) => m.type === 'RECORD').length, 0, 'a run without changes emits no record');
    t.equal(sim.stats().byRoute['GET /projects/:id/merge_requests'], full.projects.size, 'and still asks one merge request page per project');
    t.equal(sim.stats().byRoute['POST /api/graphql'] ?? 0, 0, 'and no users batch');
  });

  t.test('merge requests updated and created while the tap pages are all emitted, in their latest version', async (t) => {
    const sim = await startSimulator({ seed: 4, projects: 16, mergeRequestsPerProject: 60, users: 50, bulkEditSize: 40 });
    t.teardown(() => sim.close());
    // The simulator mutates the project being paged, or any project when that one has no merge request:
    // give every selected project one so that every change lands where the tap is still reading.
    const before = expectedIds(sim.dataset);
    sim.mutate((api) => {
      for (const p of api.dataset.projects) {
        if (!before.projects.has(p.id) || p.merge_requests_enabled === false) continue;
        if (!api.dataset.mergeRequests.some((m: Json) => m.project_id === p.id)) api.createMergeRequest(p.id);
      }
    });
    sim.control({ mutateDuringScan: { everyNRequests: 2, update: 3, create: 1 } });
    sim.reset();
    const run = await runTap({ dir: tmp.dir, config: simConfig(sim, { page_size: 20 }), name: 'scan' });
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1000) });
    const stats = sim.stats();
    t.ok(stats.mutations.updated > 10 && stats.mutations.created > 3, `the dataset changed during the scan (${JSON.stringify(stats.mutations)})`);
    const want: Expected = expectedIds(sim.dataset);
    assertRun(t, run, want, sim.token);
    const versions = lastVersions(run.messages);
    const stale = sim.dataset.mergeRequests.filter((m: Json) => want.mergeRequests.has(m.id) && versions.get(m.id) !== m.updated_at);
    t.same(stale.map((m: Json) => `${m.id}@${m.updated_at} (emitted ${versions.get(m.id)})`), [], 'the last version emitted of each merge request is its current one');
  });
}
