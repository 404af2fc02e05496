/** Runs lib/sync.ts against a fake GitLab and collects every Singer message it prints. */
import { PassThrough } from 'node:stream';
import { fakeClock, type FakeClock } from '../../lib/clock.js';
import type { TapConfig } from '../../lib/config.js';
import { memoryLogger } from '../../lib/log.js';
import { selectStreams, type SingerCatalog } from '../../lib/singer/catalog.js';
import { parseState, type TapState } from '../../lib/singer/state.js';
import { createWriter } from '../../lib/singer/writer.js';
import { runSync, type RunSummary } from '../../lib/sync.js';
import type { FakeGitLab } from './fake-gitlab.js';

export interface Message {
  type: 'SCHEMA' | 'RECORD' | 'STATE';
  stream?: string;
  record?: Record<string, unknown>;
  value?: TapState;
  [k: string]: unknown;
}

export interface SyncResult {
  messages: Message[];
  summary: RunSummary | null;
  error: unknown;
  logs: string[];
  /** The value of the last STATE printed. */
  lastState: TapState | null;
  clock: FakeClock;
}

export async function runOnce(opts: {
  gitlab: FakeGitLab;
  config: TapConfig;
  state?: unknown;
  catalog?: SingerCatalog | null;
  clock?: FakeClock;
  signal?: AbortSignal;
  /** Called with every chunk of output as it is written. */
  onOutput?: (chunk: Buffer) => void;
}): Promise<SyncResult> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => {
    chunks.push(c);
    opts.onOutput?.(c);
  });
  const clock = opts.clock ?? fakeClock(Date.parse('2024-06-01T00:00:00.000Z'));
  const logger = memoryLogger('debug');
  let summary: RunSummary | null = null;
  let error: unknown = null;
  try {
    summary = await runSync({
      config: opts.config,
      state: parseState(opts.state ?? {}),
      selections: selectStreams(opts.catalog ?? null, opts.config),
      writer: createWriter(out, { now: () => new Date(clock.now()) }),
      logger,
      fetch: opts.gitlab.fetch,
      clock,
      signal: opts.signal ?? new AbortController().signal,
    });
  } catch (err) {
    error = err;
  }
  out.end();
  const text = Buffer.concat(chunks).toString('utf8');
  const messages = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Message);
  const states = messages.filter((m) => m.type === 'STATE');
  const lastState = (states[states.length - 1]?.value as TapState | undefined) ?? null;
  return { messages, summary, error, logs: logger.lines, lastState, clock };
}

/** A compact view of a message sequence: "SCHEMA projects", "RECORD merge_requests 7", "STATE". */
export function outline(messages: Message[]): string[] {
  return messages.map((m) => {
    if (m.type === 'STATE') return 'STATE';
    if (m.type === 'SCHEMA') return `SCHEMA ${m.stream ?? ''}`;
    return `RECORD ${m.stream ?? ''} ${String(m.record?.id)}`;
  });
}

export function recordIds(messages: Message[], stream: string): number[] {
  return messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => Number(m.record?.id));
}
