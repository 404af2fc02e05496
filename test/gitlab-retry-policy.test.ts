import t from 'tap';
import { backoffMs, isRetryableStatus, rateLimitResetAt, rateLimitWait, retryAfterMs, serverErrorWait, MAX_SERVER_WAIT_MS } from '../lib/gitlab/retry-policy.js';

const NOW = Date.UTC(2024, 0, 1);

t.test('retries 408, 429, 500, 502, 503, 504 and 520-530 only', async (t) => {
  const retried = [408, 429, 500, 502, 503, 504, 520, 521, 522, 524, 530];
  const final = [400, 401, 403, 404, 405, 409, 410, 422, 501, 505, 519, 531];
  for (const s of retried) t.ok(isRetryableStatus(s), `${s} retried`);
  for (const s of final) t.notOk(isRetryableStatus(s), `${s} not retried`);
});

t.test('backoff grows exponentially with equal jitter and is capped', async (t) => {
  t.same([0, 1, 2, 3].map((a) => backoffMs(a, () => 0)), [500, 1000, 2000, 4000]);
  t.same([0, 1, 2, 3].map((a) => backoffMs(a, () => 1)), [1000, 2000, 4000, 8000]);
  t.equal(backoffMs(20, () => 1), 60_000);
  t.equal(backoffMs(20, () => 0), 30_000);
});

t.test('Retry-After is read as seconds or as an HTTP date, clamped', async (t) => {
  t.equal(retryAfterMs(new Headers({ 'retry-after': '30' }), NOW), 30_000);
  t.equal(retryAfterMs(new Headers({ 'retry-after': '1.5' }), NOW), 1500);
  t.equal(retryAfterMs(new Headers({ 'retry-after': new Date(NOW + 9000).toUTCString() }), NOW), 9000);
  t.equal(retryAfterMs(new Headers({ 'retry-after': '999999' }), NOW), MAX_SERVER_WAIT_MS);
  t.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), NOW), null);
  t.equal(retryAfterMs(new Headers(), NOW), null);
});

t.test('a Retry-After that asks for no wait at all is no value, so the backoff applies instead of retrying at once', async (t) => {
  // V8's Date.parse reads "-1", "1, 1" and "abc 1" as dates in 2001: each gave a 0 ms wait, and max_retries went in milliseconds.
  for (const raw of ['-1', '-60', 'abc 1', '0', new Date(NOW - 9000).toUTCString(), 'Monday, 01-Jan-2001 00:00:00 GMT']) {
    t.equal(retryAfterMs(new Headers({ 'retry-after': raw }), NOW), null, raw);
  }
  t.equal(retryAfterMs(new Headers({ 'retry-after': '1, 1' }), NOW), 1000, 'a header set twice is read once');
  t.equal(retryAfterMs(new Headers({ 'retry-after': `${new Date(NOW + 9000).toUTCString()}, ${new Date(NOW + 9000).toUTCString()}` }), NOW), 9000);
  t.same(rateLimitWait(new Headers({ 'retry-after': '-1' }), NOW, 0, () => 0), { ms: 2500, reason: 'backoff' });
});

t.test('Retry-After takes the three HTTP-date forms a recipient must, and the slack servers are known for', async (t) => {
  // NOW is Monday 2024-01-01T00:00:00Z; each of these is two minutes later.
  for (const raw of ['Mon, 01 Jan 2024 00:02:00 GMT', 'Mon, 1 Jan 2024 00:02:00 GMT', 'Mon, 01 Jan 2024 00:02:00 +0000', 'Mon, 01 Jan 2024 00:02:00 UTC', 'Monday, 01-Jan-24 00:02:00 GMT', 'Mon Jan  1 00:02:00 2024']) {
    t.equal(retryAfterMs(new Headers({ 'retry-after': raw }), NOW), 120_000, raw);
  }
  t.equal(retryAfterMs(new Headers({ 'retry-after': 'Mon, 01 Foo 2024 00:02:00 GMT' }), NOW), null, 'no such month');
  for (const raw of ['Mon, 01 Jan 2024 00:02:00 GMT-0500', 'Sat, 31 Feb 2024 00:02:00 GMT', 'Mon, 01 Jan 2024 00:02:61 GMT']) {
    t.equal(retryAfterMs(new Headers({ 'retry-after': raw }), NOW), null, raw);
  }
});

t.test("a date GitLab writes is measured against the answer's Date, not this machine's clock", async (t) => {
  const gitlabNow = NOW + 10 * 60_000; // this machine's clock is 10 minutes behind
  const at = (ms: number): Headers => new Headers({ date: new Date(gitlabNow).toUTCString(), 'retry-after': new Date(gitlabNow + ms).toUTCString() });
  t.equal(retryAfterMs(at(9000), NOW), 9000);
  t.equal(retryAfterMs(at(-9000), NOW), null);
  const reset = new Headers({ date: new Date(gitlabNow).toUTCString(), 'ratelimit-reset': String(gitlabNow / 1000 + 30) });
  t.equal(rateLimitResetAt(reset, NOW), NOW + 30_000);
});

t.test('RateLimit-Reset is epoch seconds (or delta seconds when small); RateLimit-ResetTime is a fallback', async (t) => {
  t.equal(rateLimitResetAt(new Headers({ 'ratelimit-reset': String(NOW / 1000 + 30) }), NOW), NOW + 30_000);
  t.equal(rateLimitResetAt(new Headers({ 'ratelimit-reset': '30' }), NOW), NOW + 30_000);
  t.equal(rateLimitResetAt(new Headers({ 'ratelimit-resettime': new Date(NOW + 5000).toUTCString() }), NOW), NOW + 5000);
  t.equal(rateLimitResetAt(new Headers({ 'ratelimit-reset': String(NOW + 30_000) }), NOW), NOW + 30_000, 'epoch milliseconds');
  t.equal(rateLimitResetAt(new Headers(), NOW), null);
});

t.test('a 429 waits Retry-After, else until the reset, else backs off', async (t) => {
  const reset = String(NOW / 1000 + 40);
  t.same(rateLimitWait(new Headers({ 'retry-after': '5', 'ratelimit-reset': reset }), NOW, 0, () => 0.5), { ms: 5000, reason: 'retry-after' });
  t.same(rateLimitWait(new Headers({ 'ratelimit-reset': reset }), NOW, 0, () => 0.5), { ms: 40_000, reason: 'ratelimit-reset' });
  t.same(rateLimitWait(new Headers({ 'ratelimit-reset': String(NOW / 1000 - 5) }), NOW, 1, () => 0.5), { ms: 7500, reason: 'backoff' });
  t.same(rateLimitWait(new Headers(), NOW, 0, () => 0), { ms: 2500, reason: 'backoff' });
});

t.test('a 5xx honours Retry-After when present', async (t) => {
  t.same(serverErrorWait(new Headers({ 'retry-after': '3' }), NOW, 4, () => 0.5), { ms: 3000, reason: 'retry-after' });
  t.same(serverErrorWait(new Headers(), NOW, 2, () => 0.5), { ms: 3000, reason: 'backoff' });
});
