/**
 * The Singer writer: the only code that writes to stdout. One JSON object per line; a stream's
 * SCHEMA before its first RECORD (and once, unless the schema changes); RECORDs stamped with
 * `time_extracted`. Each write waits for 'drain' when the output's buffer is full, so memory stays
 * flat behind a slow target. When the reader goes away (EPIPE, `| head -1`) the writer marks itself
 * closed and every later write resolves quietly: callers check `closed` and stop.
 */
import { TapError } from '../errors.js';
import { recordMessage, schemaMessage, serializeMessage, stateMessage, type SingerMessage } from './messages.js';

export interface SingerWriter {
  writeSchema(stream: string, schema: object, keyProperties: string[], bookmarkProperties?: string[]): Promise<void>;
  /** Throws a TapError (code SINGER_RECORD_BEFORE_SCHEMA) if the stream's SCHEMA was not written first. */
  writeRecord(stream: string, record: Record<string, unknown>, timeExtracted?: Date): Promise<void>;
  writeState(value: unknown): Promise<void>;
  /** True once the output is closed (EPIPE): callers stop quietly. */
  readonly closed: boolean;
  /** Records written per stream. */
  readonly counts: Record<string, number>;
}

export interface WriterOptions {
  /** Clock for `time_extracted` when the caller gives none. */
  now?: () => Date;
}

const QUIET_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'ECONNRESET']);

/** Creates a writer over `out` (process.stdout in the CLI, a PassThrough in tests). */
export function createWriter(out: NodeJS.WritableStream, opts: WriterOptions = {}): SingerWriter {
  const now = opts.now ?? (() => new Date());
  const schemas = new Map<string, string>();
  const counts: Record<string, number> = {};
  let closed = false;
  let failure: Error | null = null;

  const onError = (err: unknown): void => {
    const code = (err as { code?: unknown } | null)?.code;
    closed = true;
    if (typeof code !== 'string' || !QUIET_CODES.has(code)) failure = err instanceof Error ? err : new Error(String(err));
  };
  out.on('error', onError);
  out.once('close', () => {
    closed = true;
  });

  const fail = (): never => {
    throw new TapError('OUTPUT_FAILED', `Could not write to stdout: ${failure?.message ?? 'unknown error'}.`, 1, { cause: failure });
  };

  const waitDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        out.removeListener('drain', done);
        out.removeListener('close', done);
        out.removeListener('error', done);
        resolve();
      };
      out.once('drain', done);
      out.once('close', done);
      out.once('error', done);
    });

  const isGone = (): boolean => {
    const s = out as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
    return s.destroyed === true || s.writableEnded === true;
  };

  /** Writes one line; true when it was handed to the output, false when the output is closed. */
  const emit = async (msg: SingerMessage): Promise<boolean> => {
    if (failure) fail();
    if (closed || isGone()) {
      closed = true;
      return false;
    }
    let ok: boolean;
    try {
      ok = out.write(serializeMessage(msg));
    } catch (err) {
      onError(err);
      if (failure) fail();
      return false;
    }
    if (!ok && !closed) await waitDrain();
    if (failure) fail();
    return true;
  };

  return {
    get closed() {
      return closed;
    },
    get counts() {
      return counts;
    },
    async writeSchema(stream, schema, keyProperties, bookmarkProperties) {
      const msg = schemaMessage(stream, schema, keyProperties, bookmarkProperties);
      const text = JSON.stringify(msg);
      if (schemas.get(stream) === text) return;
      schemas.set(stream, text);
      await emit(msg);
    },
    async writeRecord(stream, record, timeExtracted) {
      if (closed) return;
      if (!schemas.has(stream)) {
        throw new TapError('SINGER_RECORD_BEFORE_SCHEMA', `Internal error: a RECORD of stream "${stream}" came before its SCHEMA.`, 1);
      }
      const written = await emit(recordMessage(stream, record, timeExtracted ?? now()));
      if (written) counts[stream] = (counts[stream] ?? 0) + 1;
    },
    async writeState(value) {
      await emit(stateMessage(value));
    },
  };
}
