import t from 'tap';
import fetchMock from 'fetch-mock';
import { fakeClock } from '../lib/clock.js';
import { GitLabClient } from '../lib/gitlab/client.js';
import { EndpointLimiter } from '../lib/gitlab/endpoint-limits.js';
import { memoryLogger } from '../lib/log.js';

t.test('a route stays within its window: the 4th request in a 3-per-minute window waits for the oldest to expire', async (t) => {
  const clock = fakeClock(0);
  const limiter = new EndpointLimiter(clock, [{ route: 'GET /users/:id', max: 3, windowMs: 60_000 }]);
  for (let i = 0; i < 3; i += 1) {
    await limiter.take('GET /users/:id');
    clock.advance(1_000);
  }
  t.same(clock.sleeps, []);
  await limiter.take('GET /users/:id');
  t.same(clock.sleeps, [57_000], 'waits until the first start is a full window old');
  await limiter.take('GET /projects/:id');
  t.same(clock.sleeps, [57_000], 'other routes are not limited by it');
});

t.test('the client paces GET /users/:id at 300 per 10 minutes without any 429', async (t) => {
  const clock = fakeClock(0);
  const fm = fetchMock.createInstance();
  fm.get('begin:https://gitlab.example.com/api/v4/users/', { id: 1 });
  const client = new GitLabClient({ apiUrl: 'https://gitlab.example.com', token: 'glpat-x-123456', tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 0, concurrency: 4, fetch: fm.fetchHandler as unknown as typeof fetch, clock, logger: memoryLogger() });
  for (let i = 1; i <= 301; i += 1) await client.get(`/users/${i}`);
  t.equal(fm.callHistory.calls().length, 301);
  t.same(clock.sleeps, [600_000], 'the 301st request waits for the window');
  t.equal(client.limiter.waitedMs, 600_000);
});

t.test("a header-less 429 on GET /users/:id (an earlier run spent GitLab's window) waits that window once, not max_retries backoffs; other endpoints go on", async (t) => {
  const clock = fakeClock(0);
  const fm = fetchMock.createInstance();
  let refused = 0;
  fm.get('begin:https://gitlab.example.com/api/v4/users/', () => {
    // GitLab's count for the window runs until 540 s from now; it answers 429 with no header until then.
    if (clock.now() < 540_000) {
      refused += 1;
      return { status: 429, body: 'Retry later' };
    }
    return { id: 1 };
  });
  fm.get('begin:https://gitlab.example.com/api/v4/projects/', []);
  const logger = memoryLogger();
  const client = new GitLabClient({ apiUrl: 'https://gitlab.example.com', token: 'glpat-x-123456', tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 8, concurrency: 4, fetch: fm.fetchHandler as unknown as typeof fetch, clock, logger });
  const user = await client.get('/users/1');
  t.same(user.body, { id: 1 });
  t.equal(refused, 1, 'one refusal, then the window');
  t.same(clock.sleeps, [600_000]);
  t.ok(logger.lines.some((l) => /GET \/users\/:id rate limited \(429\) by GitLab's limit for this endpoint; its requests wait 600s/.test(l)));
  const before = clock.sleeps.length;
  await client.get('/projects/1/merge_requests');
  t.equal(clock.sleeps.length, before, 'the merge request listing was not held');
});

t.test('a header-less 429 that outlasts a whole window is not that limit: the window is waited once per request, then the backoff', async (t) => {
  const clock = fakeClock(0);
  const fm = fetchMock.createInstance();
  fm.get('begin:https://gitlab.example.com/api/v4/users/', { status: 429, body: 'Retry later' });
  const client = new GitLabClient({ apiUrl: 'https://gitlab.example.com', token: 'glpat-x-123456', tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 3, concurrency: 4, fetch: fm.fetchHandler as unknown as typeof fetch, clock, logger: memoryLogger(), random: () => 0.5 });
  const err = await client.get('/users/1').then(() => null, (e: unknown) => e);
  t.match(err, { status: 429 });
  t.same(clock.sleeps, [600_000, 7500, 15_000], 'one window, then the 429 backoff');
});

t.test("waits for an endpoint's limit of 5 s or more are logged", async (t) => {
  const clock = fakeClock(0);
  const fm = fetchMock.createInstance();
  fm.get('begin:https://gitlab.example.com/api/v4/users/', { id: 1 });
  const logger = memoryLogger();
  const client = new GitLabClient({ apiUrl: 'https://gitlab.example.com', token: 'glpat-x-123456', tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 0, concurrency: 4, fetch: fm.fetchHandler as unknown as typeof fetch, clock, logger });
  for (let i = 1; i <= 301; i += 1) await client.get(`/users/${i}`);
  t.same(logger.lines.filter((l) => /is at GitLab's limit for this endpoint/.test(l)).map((l) => l.replace(/^\S+ /, '')), ["INFO GET /users/:id is at GitLab's limit for this endpoint; its requests wait 600s (the other endpoints go on)."]);
});
