import t from 'tap';
import { formatSummary, type RunSummary } from '../lib/summary.js';

const base: RunSummary = { exitCode: 0, stoppedBy: 'complete', projectsSynced: 3, skipped: [], failed: [], records: { projects: 3, merge_requests: 120, users: 14 }, requests: 9, retries: 2, rateLimited: 1, durationMs: 2345 };

t.test('the summary line gives how the run ended and every figure as counted', async (t) => {
  t.same(formatSummary(base), ['Sync complete in 2.3s: projects synced=3 skipped=0 failed=0; records projects=3 merge_requests=120 users=14; requests=9 retries=2 rate_limited=1']);
  t.same(formatSummary({ ...base, records: {}, retries: 0, rateLimited: 0, requests: 1 }), ['Sync complete in 2.3s: projects synced=3 skipped=0 failed=0; records none; requests=1 retries=0 rate_limited=0']);
});

t.test('each way a run stops says what to do next', async (t) => {
  const how = (stoppedBy: RunSummary['stoppedBy']): string => (formatSummary({ ...base, stoppedBy })[0] ?? '').replace(/ in .*/, '');
  t.same(
    (['complete', 'interval', 'max_records', 'signal', 'stdout_closed', 'error'] as const).map(how),
    ['Sync complete', 'Sync skipped (sync_interval_hours)', 'Sync stopped at max_records_per_sync; run again to continue', 'Sync interrupted; resume from the last STATE', 'Sync stdout closed by the reader', 'Sync failed; resume from the last STATE'],
  );
});

t.test('skipped and failed projects are named, one line each, after the summary', async (t) => {
  const lines = formatSummary({ ...base, skipped: [{ id: 2, path_with_namespace: 'acme/web', reason: 'merge requests forbidden (403)' }], failed: [{ ref: 'acme/gone', message: 'GitLab answered 404.' }] });
  t.match(lines[0], /^Sync finished with 1 failed project\(s\) in 2\.3s: projects synced=3 skipped=1 failed=1;/);
  t.same(lines.slice(1), ['  skipped acme/web (#2): merge requests forbidden (403)', '  failed acme/gone: GitLab answered 404.']);
});
