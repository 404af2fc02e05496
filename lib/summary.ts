/** The end-of-run summary printed on stderr. */
export interface SkippedProject {
  id: number;
  path_with_namespace: string;
  reason: string;
}

export interface RunSummary {
  exitCode: 0 | 1;
  stoppedBy: 'complete' | 'interval' | 'max_records' | 'signal' | 'stdout_closed' | 'error';
  projectsSynced: number;
  skipped: SkippedProject[];
  failed: Array<{ ref: string; message: string }>;
  records: Record<string, number>;
  requests: number;
  retries: number;
  rateLimited: number;
  durationMs: number;
}

const STOP_TEXT: Record<RunSummary['stoppedBy'], string> = {
  complete: 'complete',
  interval: 'skipped (sync_interval_hours)',
  max_records: 'stopped at max_records_per_sync; run again to continue',
  signal: 'interrupted; resume from the last STATE',
  stdout_closed: 'stdout closed by the reader',
  error: 'failed; resume from the last STATE',
};

export function formatSummary(s: RunSummary): string[] {
  const records = Object.entries(s.records)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const how = s.stoppedBy === 'complete' && s.failed.length > 0 ? `finished with ${s.failed.length} failed project(s)` : STOP_TEXT[s.stoppedBy];
  const lines = [
    `Sync ${how} in ${(s.durationMs / 1000).toFixed(1)}s: projects synced=${s.projectsSynced} skipped=${s.skipped.length} failed=${s.failed.length}; records ${records || 'none'}; requests=${s.requests} retries=${s.retries} rate_limited=${s.rateLimited}`,
  ];
  for (const p of s.skipped) lines.push(`  skipped ${p.path_with_namespace} (#${p.id}): ${p.reason}`);
  for (const f of s.failed) lines.push(`  failed ${f.ref}: ${f.message}`);
  return lines;
}
