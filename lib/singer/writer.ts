/**
 * The Singer writer: the only code that writes to stdout. One JSON object per line; a stream's
 * SCHEMA before its first RECORD (and once, unless the schema changes); RECORDs stamped with
 * `time_extracted`. Lines are gathered and handed to the output in chunks of about 64 KB — one
 * write call per chunk instead of one per record — and every SCHEMA and STATE goes out at once with
 * everything before it, so a STATE is never printed before the records it covers, and records never
 * wait behind a STATE. A record still in the chunk when the process dies was not covered by any STATE
 * printed, so the next run reads it again. Each chunk waits for 'drain' when the output's buffer is
 * full, so memory stays flat behind a slow target. When the reader goes away (EPIPE, `| head -1`) the
 * writer marks itself closed and every later write resolves quietly: callers check `closed` and stop.
 */
import { TapError } from '../errors.js';
import { recordMessage, schemaMessage, serializeMessage, type SingerMessage } from './messages.js';
import { createStateSerializer } from './state-json.js';

export interface SingerWriter {
  writeSchema(stream: string, schema: object, keyProperties: string[], bookmarkProperties?: string[]): Promise<void>;
  /** Throws a TapError (code SINGER_RECORD_BEFORE_SCHEMA) if the stream's SCHEMA was not written first. */
  writeRecord(stream: string, record: Record<string, unknown>, timeExtracted?: Date): Promise<void>;
  /** The same for a page of records extracted together: one `time_extracted`, one call. */
  writeRecords(stream: string, records: ReadonlyArray<Record<string, unknown>>, timeExtracted?: Date): Promise<void>;
  writeState(value: unknown): Promise<void>;
  /** Hands every gathered line to the output (a STATE or SCHEMA does this by itself). */
  flush(): Promise<void>;
  /** True once the output is closed (EPIPE): callers stop quietly. */
  readonly closed: boolean;
  /** Records written per stream. */
  readonly counts: Record<string, number>;
}

export interface WriterOptions {
  /** Clock for `time_extracted` when the caller gives none. */
  now?: () => Date;
  /**
   * Reuse a chunk's memory once the output has called back for its write. Only for an output that
   * is done with the bytes by then (a file, pipe or socket, as process.stdout is); a stream that
   * hands the same Buffer on to a reader (a PassThrough) must not get this.
   */
  reuseBuffers?: boolean;
}

/** Spare chunk buffers kept for reuse: the output holds at most a chunk or two before it asks to drain. */
const SPARE_BUFFERS = 4;

/** Lines are written in chunks of about this many bytes. */
const CHUNK_BYTES = 64 * 1024;
/** A chunk buffer's size: room for the last line that takes a chunk past CHUNK_BYTES. */
const CHUNK_BUFFER = 2 * CHUNK_BYTES;

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

  // Lines are UTF-8 encoded as they come, into a chunk buffer: no joined string, and the output
  // gets bytes (a string write would be encoded again, and one non-ASCII line would make the whole
  // joined chunk a two-byte string).
  let buf: Buffer | null = null;
  let used = 0;
  /** Chunks already full, waiting for the next write (only when a line did not fit). */
  let sealed: Buffer[] = [];
  /** Chunk buffers the output is done with (reuseBuffers): a run allocates a few instead of one per chunk. */
  const spare: Buffer[] = [];
  const release = (b: Buffer): void => {
    if (b.length === CHUNK_BUFFER && spare.length < SPARE_BUFFERS) spare.push(b);
  };

  const gather = (line: string): number => {
    const worst = line.length * 3;
    if (buf === null || used + worst > buf.length) {
      if (buf !== null && used > 0) sealed.push(buf.subarray(0, used));
      buf = worst <= CHUNK_BUFFER ? (spare.pop() ?? Buffer.allocUnsafe(CHUNK_BUFFER)) : Buffer.allocUnsafe(worst);
      used = 0;
    }
    used += buf.write(line, used, 'utf8');
    return used + (sealed.length > 0 ? CHUNK_BYTES : 0);
  };

  /** Writes the gathered lines as one chunk; false when the output is closed. */
  const flushChunk = async (): Promise<boolean> => {
    if (used === 0 && sealed.length === 0) return !closed;
    const pieces = buf !== null && used > 0 ? [...sealed, buf.subarray(0, used)] : sealed;
    const whole = buf;
    const bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    // A chunk written from its own buffer: that buffer can be used again once the output calls back.
    const afterWrite = opts.reuseBuffers === true && pieces.length === 1 && whole !== null && used > 0 ? whole : null;
    sealed = [];
    buf = null;
    used = 0;
    if (closed || isGone()) {
      closed = true;
      return false;
    }
    let ok: boolean;
    try {
      ok =
        afterWrite === null
          ? out.write(bytes)
          : out.write(bytes, (err?: Error | null) => {
              if (!err) release(afterWrite);
            });
    } catch (err) {
      onError(err);
      if (failure) fail();
      return false;
    }
    if (!ok && !closed) await waitDrain();
    if (failure) fail();
    return true;
  };

  const stateText = createStateSerializer();

  /**
   * Gathers one line (a message, or a STATE value's text), and writes the chunk when it is full or
   * when `now` (SCHEMA, STATE). True when the line was taken, false when the output is closed.
   */
  const emit = async (msg: SingerMessage | { stateValue: unknown }, now: boolean): Promise<boolean> => {
    if (failure) fail();
    if (closed || isGone()) {
      closed = true;
      return false;
    }
    // Same text as serializeMessage(stateMessage(value)), reusing the text of unchanged bookmarks.
    const line = 'stateValue' in msg ? `{"type":"STATE","value":${stateText(msg.stateValue)}}\n` : serializeMessage(msg);
    if (gather(line) >= CHUNK_BYTES || now) return flushChunk();
    return true;
  };

  async function writeRecords(stream: string, records: ReadonlyArray<Record<string, unknown>>, timeExtracted?: Date): Promise<void> {
    if (closed || records.length === 0) return;
    if (!schemas.has(stream)) {
      throw new TapError('SINGER_RECORD_BEFORE_SCHEMA', `Internal error: a RECORD of stream "${stream}" came before its SCHEMA.`, 1);
    }
    if (failure) fail();
    if (isGone()) {
      closed = true;
      return;
    }
    // Every line is serializeMessage(recordMessage(stream, record, time)); the part before the record is the same for all.
    const head = serializeMessage(recordMessage(stream, {}, timeExtracted ?? now())).slice(0, -'{}}\n'.length);
    let written = 0;
    // The output can only be found closed when a chunk is written (flushChunk checks it), not per line.
    for (const record of records) {
      if (gather(`${head}${JSON.stringify(record)}}\n`) >= CHUNK_BYTES && !(await flushChunk())) break;
      written += 1;
    }
    counts[stream] = (counts[stream] ?? 0) + written;
  }

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
      await emit(msg, true);
    },
    writeRecord(stream, record, timeExtracted) {
      return writeRecords(stream, [record], timeExtracted);
    },
    writeRecords,
    async writeState(value) {
      await emit({ stateValue: value }, true);
    },
    async flush() {
      await flushChunk();
    },
  };
}
