import t from 'tap';
import { PassThrough, Writable } from 'node:stream';
import { TapError } from '../lib/errors.js';
import { parseMessages, recordMessage, schemaMessage, serializeMessage, stateMessage } from '../lib/singer/messages.js';
import { createWriter } from '../lib/singer/writer.js';

const fixed = (): Date => new Date('2024-05-01T10:00:00.000Z');
const schema = { type: 'object', properties: { id: { type: 'integer' }, title: { type: ['null', 'string'] } } };

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

t.test('writes SCHEMA, then RECORDs with time_extracted, then STATE, one JSON object per line', async (t) => {
  const { out, text } = sink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('merge_requests', schema, ['id'], ['updated_at']);
  await w.writeRecord('merge_requests', { id: 1, title: 'Fix\nnewline ✓' });
  await w.writeRecord('merge_requests', { id: 2, title: null }, new Date('2024-04-30T08:00:00+02:00'));
  await w.writeState({ bookmarks: {} });
  const lines = text().split('\n');
  t.equal(lines.pop(), '', 'output ends with a newline');
  t.same(
    lines.map((l) => JSON.parse(l) as unknown),
    [
      { type: 'SCHEMA', stream: 'merge_requests', schema, key_properties: ['id'], bookmark_properties: ['updated_at'] },
      { type: 'RECORD', stream: 'merge_requests', time_extracted: '2024-05-01T10:00:00.000Z', record: { id: 1, title: 'Fix\nnewline ✓' } },
      { type: 'RECORD', stream: 'merge_requests', time_extracted: '2024-04-30T06:00:00.000Z', record: { id: 2, title: null } },
      { type: 'STATE', value: { bookmarks: {} } },
    ],
  );
  t.same(w.counts, { merge_requests: 2 });
  t.equal(parseMessages(text()).length, 4, 'every line parses as a Singer message');
});

t.test('a page of records written at once is the same text as record by record, with one time_extracted', async (t) => {
  const one = sink();
  const many = sink();
  const page = [{ id: 1, title: 'Zoë "quoted" \\ ✓' }, { id: 2, title: null }, { id: 3, title: 'line\nbreak 😀' }];
  const at = new Date('2024-04-30T08:00:00+02:00');
  const w1 = createWriter(one.out, { now: fixed });
  const w2 = createWriter(many.out, { now: fixed });
  for (const w of [w1, w2]) await w.writeSchema('merge_requests', schema, ['id']);
  for (const r of page) await w1.writeRecord('merge_requests', r, at);
  await w2.writeRecords('merge_requests', page, at);
  await w2.writeRecords('merge_requests', []);
  for (const w of [w1, w2]) await w.writeState({ n: 1 });
  t.equal(many.text(), one.text());
  t.equal(
    many.text().split('\n')[1],
    serializeMessage(recordMessage('merge_requests', page[0] as Record<string, unknown>, at)).slice(0, -1),
  );
  t.same(w2.counts, { merge_requests: 3 });
  await t.rejects(w2.writeRecords('users', [{ id: 1 }]), { code: 'SINGER_RECORD_BEFORE_SCHEMA' });
});

t.test('refuses a RECORD before its stream SCHEMA with a TapError', async (t) => {
  const { out, text } = sink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  await t.rejects(w.writeRecord('users', { id: 1 }), { code: 'SINGER_RECORD_BEFORE_SCHEMA' });
  await t.rejects(w.writeRecord('users', { id: 1 }), TapError);
  t.equal(text().split('\n').filter(Boolean).length, 1, 'nothing but the SCHEMA was written');
  t.same(w.counts, {});
});

t.test('writes a repeated identical SCHEMA once, and again when the schema changes', async (t) => {
  const { out, text } = sink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  await w.writeSchema('projects', schema, ['id']);
  const changed = { type: 'object', properties: { id: { type: 'integer' } } };
  await w.writeSchema('projects', changed, ['id']);
  const msgs = parseMessages(text());
  t.same(
    msgs.map((m) => m.type === 'SCHEMA' && m.schema),
    [schema, changed],
  );
  t.notOk('bookmark_properties' in (msgs[0] ?? {}), 'no bookmark_properties when none are given');
});

t.test('counts records per stream', async (t) => {
  const { out } = sink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('a', schema, ['id']);
  await w.writeSchema('b', schema, ['id']);
  for (let i = 0; i < 3; i++) await w.writeRecord('a', { id: i });
  await w.writeRecord('b', { id: 9 });
  t.same(w.counts, { a: 3, b: 1 });
});

/** A slow target: accepts writes into a tiny buffer and flushes only when told. */
function slowTarget(): { out: Writable; lines: string[]; pending: () => number; flush: () => void } {
  const lines: string[] = [];
  const queue: Array<() => void> = [];
  const out = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      queue.push(cb);
    },
  });
  return {
    out,
    lines,
    pending: () => queue.length,
    flush: () => {
      while (queue.length > 0) queue.shift()?.();
    },
  };
}

t.test('waits for drain when the output buffer is full before resolving', async (t) => {
  const target = slowTarget();
  const w = createWriter(target.out, { now: fixed });
  let resolved = false;
  const p = w.writeSchema('projects', schema, ['id']).then(() => {
    resolved = true;
  });
  await new Promise((r) => setImmediate(r));
  t.equal(resolved, false, 'the write is still waiting: the target has not drained');
  t.equal(target.lines.length, 1, 'the line was handed over whole');
  target.flush();
  await p;
  t.equal(resolved, true, 'resolves once the target drains');
});

t.test('under backpressure a STATE resolves only after drain, with the records before it in the same chunk', async (t) => {
  const target = slowTarget();
  const w = createWriter(target.out, { now: fixed });
  const first = w.writeSchema('projects', schema, ['id']);
  target.flush();
  await first;
  await w.writeRecord('projects', { id: 1, title: 'x'.repeat(100) });
  let done = false;
  const p = w.writeState({ bookmarks: {} }).then(() => {
    done = true;
  });
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  t.equal(done, false);
  target.flush();
  await p;
  t.equal(done, true);
  t.same(w.counts, { projects: 1 });
});

/** An output that keeps each write call's text apart (to see how lines are grouped into writes). */
function chunkSink(): { out: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { out, chunks };
}

t.test('records are gathered into one write with the STATE that follows them, in order', async (t) => {
  const { out, chunks } = chunkSink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  for (let id = 1; id <= 3; id++) await w.writeRecord('projects', { id, title: null });
  t.equal(chunks.length, 1, 'the SCHEMA is written at once, the records wait for their chunk');
  await w.writeState({ n: 1 });
  t.equal(chunks.length, 2, 'the STATE writes the records and itself as one chunk');
  t.same(
    parseMessages(chunks[1] ?? '').map((m) => (m.type === 'RECORD' ? m.record.id : m.type)),
    [1, 2, 3, 'STATE'],
  );
  await w.writeRecord('projects', { id: 4, title: null });
  await w.flush();
  t.same(
    parseMessages(chunks.join('')).map((m) => (m.type === 'RECORD' ? m.record.id : m.type)),
    ['SCHEMA', 1, 2, 3, 'STATE', 4],
    'flush() writes what is left',
  );
});

t.test('a full chunk (64 KB) is written without waiting for a STATE', async (t) => {
  const { out, chunks } = chunkSink();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  const title = 'y'.repeat(1000);
  for (let id = 1; id <= 100; id++) await w.writeRecord('projects', { id, title });
  t.ok(chunks.length >= 2, `records reached the output before any STATE (${chunks.length - 1} chunk(s))`);
  t.ok(chunks.slice(1).every((c) => c.length >= 64 * 1024), 'each chunk is about 64 KB');
  t.ok(chunks.every((c) => c.endsWith('\n')), 'chunks end at line ends');
});


t.test('with reuseBuffers a chunk\'s memory is written again only after the output called back for it', async (t) => {
  // An output that copies each chunk when it calls back, the way a pipe or file is done with it.
  const copies: string[] = [];
  const memory = new Set<ArrayBufferLike>();
  const held: Array<() => void> = [];
  let hold = false;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      memory.add(chunk.buffer);
      const done = (): void => {
        copies.push(chunk.toString('utf8'));
        cb();
      };
      if (hold) held.push(done);
      else done();
    },
  });
  const w = createWriter(out, { now: fixed, reuseBuffers: true });
  await w.writeSchema('projects', schema, ['id']);
  const expected: string[] = [];
  for (let page = 0; page < 20; page++) {
    const recs = Array.from({ length: 30 }, (_, i) => ({ id: page * 100 + i, title: `page ${page} ✓ ${'z'.repeat(3000)}` }));
    await w.writeRecords('projects', recs);
    await w.writeState({ page });
    expected.push(...recs.map((r) => JSON.stringify(r)));
    // Between pages the process waits for GitLab: the output's callbacks run then.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // A chunk the output has not called back for is never written over.
  hold = true;
  const pending = w.writeState({ page: 'held' });
  await w.writeRecords('projects', [{ id: 9999, title: 'after' }]);
  const beforeRelease = held.length;
  held.splice(0).forEach((f) => f());
  await pending;
  hold = false;
  await w.flush();
  const records = copies
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{"type":"RECORD"'))
    .map((l) => JSON.stringify((JSON.parse(l) as { record: unknown }).record));
  t.same(records, [...expected, JSON.stringify({ id: 9999, title: 'after' })], 'every line intact, in order');
  t.ok(beforeRelease >= 1, 'a write was held');
  t.ok(memory.size <= 5, `a handful of chunk buffers served ${copies.length} writes (${memory.size})`);
  const plain = new Set<ArrayBufferLike>();
  const w2 = createWriter(new Writable({ write(chunk: Buffer, _e, cb) { plain.add(chunk.buffer); cb(); } }), { now: fixed });
  await w2.writeSchema('projects', schema, ['id']);
  for (let i = 0; i < 10; i++) {
    await w2.writeState({ i });
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(plain.size, 11, 'without it every chunk has its own memory (a PassThrough hands that memory on)');
});

t.test('non-ASCII text and lines larger than a chunk reach the output whole, as UTF-8 bytes, in order', async (t) => {
  const writes: Buffer[] = [];
  const out = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _enc, cb) {
      writes.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from('not bytes'));
      cb();
    },
  });
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  const titles = ['Zoë’s façade — 日本語 🚀', 'x'.repeat(50_000), 'ü'.repeat(300_000), 'plain', '😀'.repeat(40_000), 'é'.repeat(30_000), 'end'];
  for (const [i, title] of titles.entries()) await w.writeRecord('projects', { id: i + 1, title });
  await w.writeState({ done: true });
  t.ok(writes.every((b) => Buffer.isBuffer(b) && b.at(-1) === 0x0a), 'every write is bytes ending at a line end');
  const expected = [
    serializeMessage(schemaMessage('projects', schema, ['id'])),
    ...titles.map((title, i) => serializeMessage(recordMessage('projects', { id: i + 1, title }, fixed()))),
    serializeMessage(stateMessage({ done: true })),
  ].join('');
  t.equal(Buffer.concat(writes).toString('utf8'), expected, 'exactly the lines, byte for byte');
  t.same(w.counts, { projects: titles.length });
});
function epipeTarget(afterLines: number): { out: Writable; lines: string[] } {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (lines.length >= afterLines) {
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        cb(err);
        return;
      }
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { out, lines };
}

t.test('a closed stdout (EPIPE) marks the writer closed and later writes resolve quietly', async (t) => {
  const target = epipeTarget(2);
  const w = createWriter(target.out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  await w.writeRecord('projects', { id: 1 });
  await w.writeState({ n: 1 });
  t.equal(w.closed, false);
  await w.writeRecord('projects', { id: 2 });
  await w.writeState({ n: 2 });
  await new Promise((r) => setImmediate(r));
  t.equal(w.closed, true, 'closed after the EPIPE');
  await t.resolves(w.writeRecord('projects', { id: 3 }));
  await t.resolves(w.writeState({ bookmarks: {} }));
  await t.resolves(w.writeRecord('never-declared', { id: 4 }), 'no ordering error once closed');
  t.equal(target.lines.length, 2, 'nothing more reached the output');
  t.ok(target.lines.every((l) => l.endsWith('\n')), 'no partial line');
});

t.test('an EPIPE while waiting for drain resolves the pending write', async (t) => {
  const lines: string[] = [];
  let fail: ((e: Error) => void) | undefined;
  const out = new Writable({
    highWaterMark: 8,
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      fail = (e) => cb(e);
    },
  });
  const w = createWriter(out, { now: fixed });
  const p = w.writeSchema('projects', schema, ['id']);
  await new Promise((r) => setImmediate(r));
  fail?.(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await t.resolves(p);
  t.equal(w.closed, true);
});

t.test('a stream that was already destroyed counts as closed', async (t) => {
  const { out } = sink();
  out.destroy();
  const w = createWriter(out, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  t.equal(w.closed, true);
  await w.writeRecord('projects', { id: 1 });
  t.same(w.counts, {});
});

t.test('another write error fails the next write with OUTPUT_FAILED', async (t) => {
  const out = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
    },
  });
  const w = createWriter(out, { now: fixed });
  // The failing write itself may reject or resolve depending on when the stream reports the error…
  await w.writeSchema('projects', schema, ['id']).catch((err: unknown) => t.match(err, { code: 'OUTPUT_FAILED' }));
  await new Promise((r) => setImmediate(r));
  // …but every write after it fails loudly: this is not a reader that went away.
  await t.rejects(w.writeState({}), { code: 'OUTPUT_FAILED', message: /disk full/ });
});

t.test('a real socket whose reader hangs up ends the writer quietly without a partial line', async (t) => {
  const net = await import('node:net');
  const received: Buffer[] = [];
  const server = net.createServer((conn) => {
    conn.once('data', (c: Buffer) => {
      received.push(c);
      conn.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const w = createWriter(socket, { now: fixed });
  await w.writeSchema('projects', schema, ['id']);
  let i = 0;
  while (!w.closed && i < 100_000) await w.writeRecord('projects', { id: i++, title: 'x'.repeat(200) });
  t.equal(w.closed, true, 'the writer noticed the reader left');
  t.ok(i < 100_000, 'and the loop stopped early');
  t.ok(received[0]?.toString('utf8').startsWith('{"type":"SCHEMA"'));
  socket.destroy();
  await new Promise((r) => server.close(r));
});
