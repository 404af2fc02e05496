import t from 'tap';
import { runWorkers } from '../lib/pool.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('runs at most `limit` jobs at once and every job once', async (t) => {
  const jobs = [1, 2, 3, 4, 5, 6, 7];
  let active = 0;
  let peak = 0;
  const done: number[] = [];
  await runWorkers(3, () => jobs.shift() ?? null, async (n) => {
    active += 1;
    peak = Math.max(peak, active);
    await tick();
    done.push(n);
    active -= 1;
  });
  t.equal(peak, 3);
  t.same([...done].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
});

t.test('a job added while others run is taken by the next free worker', async (t) => {
  const queue: string[] = ['a', 'b'];
  const done: string[] = [];
  await runWorkers(2, () => queue.shift() ?? null, async (job) => {
    await tick();
    if (job === 'a') queue.push('a-more');
    done.push(job);
  });
  t.same(done.sort(), ['a', 'a-more', 'b']);
});

t.test('after a failure no new job starts; the first error is thrown once started jobs settle', async (t) => {
  const queue = [1, 2, 3, 4, 5];
  const started: number[] = [];
  let settled = 0;
  await t.rejects(
    runWorkers(2, () => queue.shift() ?? null, async (n) => {
      started.push(n);
      await tick();
      settled += 1;
      if (n === 1) throw new Error('first');
      if (n === 2) throw new Error('second');
    }),
    { message: 'first' },
  );
  t.same(started, [1, 2], 'jobs 3 to 5 never started');
  t.equal(settled, 2);
});

t.test('a worker whose take() waits gets the job a running job makes, and all end when take() says null', async (t) => {
  const queue: string[] = ['long'];
  let busy = 0;
  let wake: () => void = () => undefined;
  const changed = (): void => wake();
  const done: string[] = [];
  const waited: string[] = [];
  await runWorkers(
    2,
    async () => {
      for (;;) {
        const job = queue.shift();
        if (job !== undefined) {
          busy += 1;
          return job;
        }
        if (busy === 0) return null;
        waited.push('wait');
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    },
    async (job) => {
      await tick();
      if (job === 'long') {
        queue.push('made-later');
        changed();
        await tick();
        await tick();
      }
      done.push(job);
      busy -= 1;
      changed();
    },
  );
  t.same(done, ['made-later', 'long'], 'the second worker took the new job while the first was still busy');
  t.ok(waited.length > 0, 'the second worker waited instead of ending');
});
