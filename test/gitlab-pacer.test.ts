import t from 'tap';
import { Pacer } from '../lib/gitlab/pacer.js';
import { GitLabClient } from '../lib/gitlab/client.js';
import { fakeClock } from '../lib/clock.js';
import { memoryLogger } from '../lib/log.js';

const START = Date.UTC(2024, 0, 1);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function budget(remaining: number, limit: number | null, resetInS: number, now = START): Headers {
  const h = new Headers({ 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(Math.floor(now / 1000) + resetInS) });
  if (limit !== null) h.set('ratelimit-limit', String(limit));
  return h;
}

t.test('with concurrency 2, never more than 2 requests are in flight through the client', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const started: string[] = [];
  const fakeFetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    started.push(new URL(url).pathname);
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await tick();
    await tick();
    inFlight -= 1;
    return new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new GitLabClient({ apiUrl: 'https://gitlab.example.com', token: 'glpat-xxxxxxxx', tokenType: 'private', userAgent: 'ua', timeoutMs: 0, maxRetries: 0, concurrency: 2, fetch: fakeFetch as typeof fetch, clock: fakeClock(START), logger: memoryLogger() });
  await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => client.get(`/projects/${i}`)));
  t.equal(peak, 2, 'two at a time, no more');
  t.equal(client.pacer.peakInFlight, 2);
  t.equal(started.length, 7);
  t.same(started, [1, 2, 3, 4, 5, 6, 7].map((i) => `/api/v4/projects/${i}`), 'first come, first served');
});

t.test('the gate releases its slot when a request fails', async (t) => {
  const pacer = new Pacer({ concurrency: 1, clock: fakeClock(START) });
  await t.rejects(pacer.run(async () => Promise.reject(new Error('x'))));
  t.equal(await pacer.run(async () => 'ok'), 'ok');
  t.equal(pacer.inFlight, 0);
});

t.test('a queued request can be aborted while it waits for a slot', async (t) => {
  const pacer = new Pacer({ concurrency: 1, clock: fakeClock(START) });
  let release: () => void = () => {};
  const first = pacer.run(() => new Promise<void>((r) => (release = r)));
  const ac = new AbortController();
  const second = pacer.run(async () => 'ran', ac.signal);
  ac.abort(new Error('stopped'));
  await t.rejects(second, { message: 'stopped' });
  release();
  await first;
  t.equal(await pacer.run(async () => 'third'), 'third');
});

t.test('spreads requests evenly until RateLimit-Reset when Remaining is below 5% of the limit', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  await pacer.run(async () => pacer.observe(budget(99, 2000, 60)));
  t.same(clock.sleeps, [], '99 of 2000 is below 5%: pacing starts with the next request');
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [607], '60 s / 99 requests ≈ 607 ms apart');
});

t.test('does not pace above the low-water mark', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  pacer.observe(budget(110, 2000, 60));
  for (let i = 0; i < 3; i++) await pacer.run(async () => undefined);
  t.same(clock.sleeps, []);
});

t.test('without RateLimit-Limit, fewer than 10 remaining counts as low', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  await pacer.run(async () => pacer.observe(budget(4, null, 20)));
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [5000]);
});

t.test('at zero remaining, waits for the reset; a stale budget is ignored', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  pacer.observe(budget(0, 2000, 15));
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [15_000]);
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [15_000], 'after the reset the old budget no longer applies');
});

t.test('a reset further off than any honoured wait is a broken header: no pacing to it', async (t) => {
  const clock = fakeClock(START);
  const waits: number[] = [];
  const pacer = new Pacer({ concurrency: 4, clock, onLongWait: (ms) => waits.push(ms) });
  pacer.observe(budget(0, 2000, 24 * 3600));
  await pacer.run(async () => undefined);
  pacer.observe(new Headers({ 'ratelimit-remaining': '0', 'ratelimit-reset': String(START + 3_600_000) }));
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [], 'neither a reset a day away nor one an hour away in epoch milliseconds parks the run');
  t.same(waits, []);
});

t.test("the reset is read on GitLab's clock: a machine 10 minutes behind waits the window, not 10 minutes more", async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  const gitlabNow = START + 10 * 60_000;
  const h = budget(0, 2000, 15, gitlabNow);
  h.set('date', new Date(gitlabNow).toUTCString());
  pacer.observe(h);
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [15_000]);
});

t.test('a pacing wait of 5 s or more is reported, shorter ones are not', async (t) => {
  const clock = fakeClock(START);
  const waits: Array<[number, number]> = [];
  const pacer = new Pacer({ concurrency: 4, clock, onLongWait: (ms, remaining) => waits.push([ms, remaining]) });
  pacer.observe(budget(0, 2000, 15));
  await pacer.run(async () => undefined);
  t.same(waits, [[15_000, 0]]);
  await pacer.run(async () => pacer.observe(budget(5, 2000, 10, clock.now())));
  await pacer.run(async () => undefined);
  t.same(waits, [[15_000, 0]], 'a 2 s interval is not');
});

t.test('concurrent requests under pacing start one interval apart', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  await pacer.run(async () => pacer.observe(budget(5, 2000, 10)));
  // 5 left for 10 s; each start spends one: 10s/5, 8s/4, 6s/3 → one every 2 s.
  await Promise.all([1, 2, 3].map(() => pacer.run(async () => undefined)));
  t.same(clock.sleeps, [2000, 2000, 2000]);
  t.equal(clock.now() - START, 6000);
});

t.test('pauseUntil holds every request and never shortens an existing pause', async (t) => {
  const clock = fakeClock(START);
  const pacer = new Pacer({ concurrency: 4, clock });
  pacer.pauseUntil(START + 10_000);
  pacer.pauseUntil(START + 3_000);
  await pacer.run(async () => undefined);
  t.same(clock.sleeps, [10_000]);
});
