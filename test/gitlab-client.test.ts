import t, { type Test } from 'tap';
import fetchMock from 'fetch-mock';
import type { CallLog, RouteResponse } from 'fetch-mock';
import { GitLabClient, normaliseApiUrl, type ClientOptions } from '../lib/gitlab/client.js';
import { fakeClock } from '../lib/clock.js';
import { memoryLogger } from '../lib/log.js';
import { GitLabHttpError, GitLabNetworkError, GitLabResponseError, TapError } from '../lib/errors.js';

const ORIGIN = 'https://gitlab.example.com';
const API = `${ORIGIN}/api/v4`;
const TOKEN = 'glpat-SeCrEt-t0ken-xyz';
const START = Date.UTC(2024, 0, 1);

function setup(opts: Partial<ClientOptions> = {}) {
  const fm = fetchMock.createInstance();
  const clock = fakeClock(START);
  const logger = memoryLogger('debug');
  const client = new GitLabClient({
    apiUrl: ORIGIN,
    token: TOKEN,
    tokenType: 'private',
    userAgent: 'tap-gitlab/0.1.0',
    timeoutMs: 30_000,
    maxRetries: 4,
    concurrency: 4,
    fetch: fm.fetchHandler,
    clock,
    logger,
    random: () => 0.5,
    ...opts,
  });
  return { fm, clock, logger, client };
}

/** A route answer that walks through `answers`, repeating the last one. */
function sequence(answers: RouteResponse[]): (call: CallLog) => RouteResponse {
  let i = 0;
  return () => {
    const a = answers[Math.min(i, answers.length - 1)];
    i += 1;
    return a as RouteResponse;
  };
}

function netError(code: string, message = 'fetch failed'): TypeError {
  return Object.assign(new TypeError(message), { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

function calls(fm: ReturnType<typeof fetchMock.createInstance>): CallLog[] {
  return fm.callHistory.calls();
}

function headerOf(call: CallLog, name: string): string | undefined {
  const h = call.options.headers as Record<string, string> | undefined;
  return h?.[name];
}

/** Asserts the token appears in no URL, log line or error text. */
function assertNoTokenLeak(t: Test, fm: ReturnType<typeof fetchMock.createInstance>, logger: { lines: string[] }, err?: unknown): void {
  for (const c of calls(fm)) t.notOk(c.url.includes(TOKEN), `token not in URL ${c.url}`);
  t.notOk(logger.lines.some((l) => l.includes(TOKEN)), 'token not in logs');
  if (err instanceof Error) t.notOk(`${err.message} ${String(err.cause ?? '')}`.includes(TOKEN), 'token not in error');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

t.test('sends the token only in the PRIVATE-TOKEN header, with User-Agent and Accept', async (t) => {
  const { fm, client, logger } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects/42', { status: 200, body: { id: 42 } });
  const res = await client.get('/projects/42', { statistics: true });
  t.same(res.body, { id: 42 });
  t.equal(res.status, 200);
  const [call] = calls(fm);
  t.equal(call?.url, `${API}/projects/42?statistics=true`);
  t.equal(call && headerOf(call, 'private-token'), TOKEN);
  t.equal(call && headerOf(call, 'authorization'), undefined);
  t.equal(call && headerOf(call, 'user-agent'), 'tap-gitlab/0.1.0');
  t.equal(call && headerOf(call, 'accept'), 'application/json');
  assertNoTokenLeak(t, fm, logger);
});

t.test('sends an OAuth token as Authorization: Bearer', async (t) => {
  const { fm, client } = setup({ tokenType: 'bearer' });
  fm.route(`${API}/user`, { status: 200, body: { id: 1 } });
  await client.get('/user');
  const [call] = calls(fm);
  t.equal(call && headerOf(call, 'authorization'), `Bearer ${TOKEN}`);
  t.equal(call && headerOf(call, 'private-token'), undefined);
});

t.test('accepts the base URL with or without /api/v4 and trailing slashes', async (t) => {
  for (const input of ['https://gitlab.example.com', 'https://gitlab.example.com/', 'https://gitlab.example.com/api/v4', 'https://gitlab.example.com/api/v4/']) {
    t.equal(normaliseApiUrl(input), API, input);
  }
  t.equal(normaliseApiUrl('https://example.com/gitlab/'), 'https://example.com/gitlab/api/v4');
  const { fm, client } = setup({ apiUrl: `${API}/` });
  fm.route('begin:https://gitlab.example.com/api/v4/', { status: 200, body: [] });
  await client.get('projects');
  await client.get('/api/v4/users', { id_after: 5 });
  t.same(
    calls(fm).map((c) => c.url),
    [`${API}/projects`, `${API}/users?id_after=5`],
  );
  t.equal(client.baseUrl, ORIGIN);
});

t.test('encodes arrays as key[], booleans as words, and "+" in timestamps', async (t) => {
  const { fm, client } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects/1/merge_requests', { status: 200, body: [] });
  await client.get('/projects/1/merge_requests', { iids: [1, 2], with_labels_details: false, updated_after: '2024-01-01T00:00:00+02:00', skip: undefined });
  t.equal(calls(fm)[0]?.url, `${API}/projects/1/merge_requests?iids%5B%5D=1&iids%5B%5D=2&with_labels_details=false&updated_after=2024-01-01T00%3A00%3A00%2B02%3A00`);
});

t.test('never sends a token-carrying query parameter', async (t) => {
  const { fm, client } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', { status: 200, body: [] });
  await client.get('/projects', { private_token: 'leak', membership: true });
  await client.getUrl('https://gitlab.example.com/api/v4/projects?access_token=leak&page=2');
  t.same(
    calls(fm).map((c) => c.url),
    [`${API}/projects?membership=true`, `${API}/projects?page=2`],
  );
});

t.test('honours Retry-After on a 429 and waits through the injected clock', async (t) => {
  const { fm, client, clock, logger } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ status: 429, body: 'Retry later', headers: { 'retry-after': '7' } }, { status: 200, body: [{ id: 1 }] }]));
  const res = await client.get('/projects');
  t.same(res.body, [{ id: 1 }]);
  t.same(clock.sleeps, [7000]);
  t.equal(calls(fm).length, 2);
  t.equal(client.metrics.rateLimited, 1);
  t.equal(client.metrics.retries, 1);
  assertNoTokenLeak(t, fm, logger);
});

t.test('honours Retry-After given as an HTTP date', async (t) => {
  const { fm, client, clock } = setup();
  const at = new Date(START + 12_000).toUTCString();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ status: 429, headers: { 'retry-after': at } }, { status: 200, body: [] }]));
  await client.get('/projects');
  t.same(clock.sleeps, [12_000]);
});

t.test('without Retry-After, waits until RateLimit-Reset', async (t) => {
  const { fm, client, clock } = setup();
  const reset = String(Math.floor(START / 1000) + 42);
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ status: 429, headers: { 'ratelimit-reset': reset, 'ratelimit-remaining': '0', 'ratelimit-limit': '2000' } }, { status: 200, body: [] }]));
  await client.get('/projects');
  t.same(clock.sleeps, [42_000]);
  t.equal(calls(fm).length, 2);
});

t.test('backs off a header-less 429 with growing delays, then succeeds', async (t) => {
  const { fm, client, clock } = setup({ maxRetries: 5 });
  fm.route('begin:https://gitlab.example.com/api/v4/projects/5/merge_requests', sequence([{ status: 429, body: { message: { error: 'This endpoint has been requested too many times. Try again later.' } } }, 429, 429, 429, { status: 200, body: [] }]));
  await client.get('/projects/5/merge_requests');
  // equal jitter with random=0.5: 0.75 * 5s * 2^n
  t.same(clock.sleeps, [3750, 7500, 15_000, 30_000]);
  for (let i = 1; i < clock.sleeps.length; i++) t.ok((clock.sleeps[i] ?? 0) > (clock.sleeps[i - 1] ?? 0), 'delay grows');
  t.equal(calls(fm).length, 5);
  t.equal(client.metrics.rateLimited, 4);
});

t.test('a 429 pause holds every request of the client, not only the one that was limited', async (t) => {
  const { fm, client, clock } = setup({ concurrency: 1 });
  fm.route(`${API}/a`, sequence([{ status: 429, headers: { 'retry-after': '10' } }, { status: 200, body: {} }]));
  fm.route(`${API}/b`, { status: 200, body: {} });
  const a = client.get('/a');
  const b = client.get('/b');
  await Promise.all([a, b]);
  t.same(clock.sleeps, [10_000]);
  t.same(
    calls(fm).map((c) => c.url),
    [`${API}/a`, `${API}/b`, `${API}/a`],
  );
  // /b started only after the pause ended
  t.ok(clock.now() >= START + 10_000);
});

t.test('gives up on a 429 after max_retries with a clear error', async (t) => {
  const { fm, client, logger } = setup({ maxRetries: 2 });
  fm.route('begin:https://gitlab.example.com/api/v4/projects', { status: 429, body: 'Retry later', headers: { 'retry-after': '1' } });
  const err = await rejection(client.get('/projects', { membership: true }));
  t.type(err, GitLabHttpError);
  t.equal((err as GitLabHttpError).code, 'GITLAB_HTTP_429');
  t.match((err as Error).message, /429 to GET \/api\/v4\/projects\?membership=true after 2 retries: Retry later/);
  t.equal(calls(fm).length, 3);
  assertNoTokenLeak(t, fm, logger, err);
});

t.test('slows down ahead of time when RateLimit-Remaining runs low', async (t) => {
  const { fm, client, clock } = setup({ concurrency: 1 });
  const reset = String(Math.floor(START / 1000) + 60);
  const h = (remaining: number) => ({ status: 200, body: [], headers: { 'ratelimit-limit': '2000', 'ratelimit-remaining': String(remaining), 'ratelimit-reset': reset } });
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([h(2), h(1), h(0), h(1990)]));
  await client.get('/projects');
  t.same(clock.sleeps, [], 'first request is not delayed');
  await client.get('/projects'); // 2 left for 60 s: one every 30 s
  t.same(clock.sleeps, [30_000]);
  await client.get('/projects'); // 1 left for the remaining 30 s
  t.same(clock.sleeps, [30_000, 30_000]);
  await client.get('/projects'); // 0 left, but the window has reset
  t.same(clock.sleeps, [30_000, 30_000]);
  await client.get('/projects'); // plenty left after reset: no pacing
  t.same(clock.sleeps, [30_000, 30_000]);
  t.equal(calls(fm).length, 5);
});

t.test('does not pace while RateLimit-Remaining is healthy', async (t) => {
  const { fm, client, clock } = setup();
  const reset = String(Math.floor(START / 1000) + 60);
  fm.route('begin:https://gitlab.example.com/api/v4/projects', { status: 200, body: [], headers: { 'ratelimit-limit': '2000', 'ratelimit-remaining': '500', 'ratelimit-reset': reset } });
  for (let i = 0; i < 5; i++) await client.get('/projects');
  t.same(clock.sleeps, []);
});

t.test('retries 5xx with capped backoff, then gives up naming status and path', async (t) => {
  const { fm, client, clock, logger } = setup({ maxRetries: 4 });
  fm.route('begin:https://gitlab.example.com/api/v4/projects/42/merge_requests', { status: 503, body: '<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>lots of text</p></body></html>', headers: { 'content-type': 'text/html' } });
  const err = await rejection(client.get('/projects/42/merge_requests', { per_page: 100 }));
  t.type(err, GitLabHttpError);
  const e = err as GitLabHttpError;
  t.equal(e.status, 503);
  t.equal(e.path, '/api/v4/projects/42/merge_requests?per_page=100');
  t.match(e.message, 'GitLab answered 503 to GET /api/v4/projects/42/merge_requests?per_page=100 after 4 retries: 503 Service Unavailable');
  t.notMatch(e.message, /lots of text|<html/);
  t.equal(calls(fm).length, 5);
  t.same(clock.sleeps, [750, 1500, 3000, 6000]);
  t.equal(client.metrics.retries, 4);
  t.equal(e.exitCode, 1);
  assertNoTokenLeak(t, fm, logger, err);
});

t.test('retries 408, 500, 502, 504 and Cloudflare 520-530 until one succeeds', async (t) => {
  const { fm, client, clock } = setup({ maxRetries: 8 });
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([408, 500, 502, 504, 520, 530, { status: 200, body: [{ id: 1 }] }]));
  const res = await client.get('/projects');
  t.same(res.body, [{ id: 1 }]);
  t.equal(calls(fm).length, 7);
  t.equal(clock.sleeps.length, 6);
});

t.test('caps the backoff at 60 seconds', async (t) => {
  const { fm, client, clock } = setup({ maxRetries: 9, random: () => 1 });
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([500, 500, 500, 500, 500, 500, 500, 500, { status: 200, body: [] }]));
  await client.get('/projects');
  t.same(clock.sleeps, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
});

t.test('uses Retry-After on a 503 when GitLab sends one', async (t) => {
  const { fm, client, clock } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ status: 503, headers: { 'retry-after': '20' } }, { status: 200, body: [] }]));
  await client.get('/projects');
  t.same(clock.sleeps, [20_000]);
});

t.test('does not retry other 4xx: one request, typed error with advice', async (t) => {
  const cases: Array<{ status: number; body: unknown; headers?: Record<string, string>; message: RegExp; advice: RegExp }> = [
    { status: 400, body: { error: 'order_by does not have a valid value' }, message: /order_by does not have a valid value/, advice: /rejected a parameter/ },
    { status: 401, body: { message: '401 Unauthorized' }, message: /401 Unauthorized/, advice: /invalid, expired or revoked/ },
    { status: 403, body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'read_api' }, message: /insufficient_scope: The request requires higher/, advice: /needs read_api/ },
    { status: 403, body: { message: '403 Forbidden' }, message: /403 Forbidden/, advice: /may not read this/ },
    { status: 404, body: { message: '404 Project Not Found' }, message: /404 Project Not Found/, advice: /not visible to this token/ },
    { status: 405, body: { error: 'Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.' }, message: /maximum allowed offset/, advice: /keyset/ },
    { status: 422, body: { message: { title: ['is too long'] } }, message: /title is too long/, advice: /parameter/ },
  ];
  for (const c of cases) {
    const { fm, client, clock, logger } = setup();
    fm.route('begin:https://gitlab.example.com/api/v4/projects/7', { status: c.status, body: c.body as object, headers: c.headers ?? {} });
    const err = await rejection(client.get('/projects/7'));
    t.type(err, GitLabHttpError, `${c.status} is a GitLabHttpError`);
    const e = err as GitLabHttpError;
    t.equal(e.code, `GITLAB_HTTP_${c.status}`);
    t.match(e.gitlabMessage, c.message);
    t.match(e.message, c.advice);
    t.equal(calls(fm).length, 1, `${c.status}: exactly one request`);
    t.same(clock.sleeps, []);
    assertNoTokenLeak(t, fm, logger, err);
  }
});

t.test('a redirect to another origin is not followed and never receives the token', async (t) => {
  const { fm, client, logger } = setup();
  const other = 'https://gitlab.example.com:8443';
  fm.route(`${API}/projects/1`, { status: 301, headers: { location: `${other}/api/v4/projects/1` } });
  fm.route(`begin:${other}`, { status: 200, body: { stolen: true } });
  const err = await rejection(client.get('/projects/1'));
  t.type(err, GitLabHttpError);
  t.match((err as Error).message, /another origin \(https:\/\/gitlab\.example\.com:8443\)/);
  t.match((err as Error).message, /gitlab_base_url/);
  const all = calls(fm);
  t.same(
    all.map((c) => c.url),
    [`${API}/projects/1`],
  );
  for (const c of all) {
    if (new URL(c.url).origin !== ORIGIN) t.equal(headerOf(c, 'private-token'), undefined, 'no token to another origin');
  }
  t.notOk(fm.callHistory.called(`begin:${other}`));
  assertNoTokenLeak(t, fm, logger, err);
});

t.test('an http downgrade on the same host is another origin and is refused', async (t) => {
  const { fm, client } = setup();
  fm.route(`${API}/projects/1`, { status: 302, headers: { location: 'http://gitlab.example.com/api/v4/projects/1' } });
  const err = await rejection(client.get('/projects/1'));
  t.type(err, GitLabHttpError);
  t.equal(calls(fm).length, 1);
});

t.test("follows GitLab's same-origin 301 for a moved project, with the token and the query", async (t) => {
  const { fm, client } = setup();
  fm.route(`begin:${API}/projects/old-group%2Fold-name`, { status: 301, body: 'This resource has been moved permanently to https://gitlab.example.com/api/v4/projects/42', headers: { location: `${API}/projects/42` } });
  fm.route(`begin:${API}/projects/42`, { status: 200, body: { id: 42 } });
  const res = await client.get('/projects/old-group%2Fold-name', { statistics: true });
  t.same(res.body, { id: 42 });
  t.equal(res.url, `${API}/projects/42?statistics=true`);
  const all = calls(fm);
  t.same(
    all.map((c) => c.url),
    [`${API}/projects/old-group%2Fold-name?statistics=true`, `${API}/projects/42?statistics=true`],
  );
  t.equal(all[1] && headerOf(all[1], 'private-token'), TOKEN);
  t.equal(client.metrics.retries, 0);
});

t.test('follows a relative Location and stops after 5 redirect hops', async (t) => {
  const { fm, client } = setup();
  let n = 0;
  fm.route(`begin:${API}/loop`, () => ({ status: 307, headers: { location: `/api/v4/loop/${++n}` } }));
  const err = await rejection(client.get('/loop'));
  t.type(err, GitLabHttpError);
  t.match((err as Error).message, /more than 5 redirects/);
  t.equal(calls(fm).length, 6);
});

t.test('retries connection resets, timeouts and temporary DNS failures', async (t) => {
  const timeout = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
  const { fm, client, clock, logger } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ throws: netError('ECONNRESET') }, { throws: timeout }, { throws: netError('EAI_AGAIN') }, { throws: new Error('socket hang up') }, { status: 200, body: [] }]));
  const res = await client.get('/projects');
  t.equal(res.status, 200);
  t.equal(calls(fm).length, 5);
  t.same(clock.sleeps, [750, 1500, 3000, 6000]);
  t.equal(client.metrics.errors, 4);
  t.ok(logger.lines.some((l) => l.includes('ECONNRESET')));
});

t.test('a request that outlives the timeout is aborted and retried as a timeout', async (t) => {
  // The only real timer in this file: a 1 ms timeout against a server that never answers.
  let attempts = 0;
  const hanging = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    attempts += 1;
    const signal = input instanceof Request ? input.signal : init?.signal;
    return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
  };
  const { client, clock } = setup({ fetch: hanging as typeof fetch, timeoutMs: 1, maxRetries: 1 });
  const keepAlive = setInterval(() => {}, 1000); // the timeout timer is unref'd; a real socket would hold the loop
  const err = await rejection(client.get('/projects')).finally(() => clearInterval(keepAlive));
  t.type(err, GitLabNetworkError);
  t.equal((err as TapError).code, 'NETWORK_TIMEOUT');
  t.match((err as Error).message, /after 1 retries.*request_timeout_seconds/);
  t.equal(attempts, 2);
  t.same(clock.sleeps, [750]);
});

t.test('a DNS failure is retried only twice, then names gitlab_base_url', async (t) => {
  const { fm, client, logger } = setup({ maxRetries: 8 });
  fm.route('begin:https://gitlab.example.com/', { throws: netError('ENOTFOUND', 'fetch failed') });
  const err = await rejection(client.get('/projects'));
  t.type(err, GitLabNetworkError);
  t.equal((err as TapError).code, 'NETWORK_DNS');
  t.match((err as Error).message, /Could not reach GitLab at https:\/\/gitlab\.example\.com \(GET \/api\/v4\/projects\) after 2 retries.*ENOTFOUND.*gitlab_base_url/);
  t.equal(calls(fm).length, 3);
  assertNoTokenLeak(t, fm, logger, err);
});

t.test('a refused connection is retried only twice', async (t) => {
  const { fm, client } = setup({ maxRetries: 8 });
  fm.route('begin:https://gitlab.example.com/', { throws: netError('ECONNREFUSED') });
  const err = await rejection(client.get('/projects'));
  t.equal((err as TapError).code, 'NETWORK_REFUSED');
  t.equal(calls(fm).length, 3);
});

t.test('a TLS error is not retried', async (t) => {
  const { fm, client } = setup();
  fm.route('begin:https://gitlab.example.com/', { throws: netError('UNABLE_TO_VERIFY_LEAF_SIGNATURE') });
  const err = await rejection(client.get('/projects'));
  t.equal((err as TapError).code, 'NETWORK_TLS');
  t.match((err as Error).message, /gitlab_base_url/);
  t.equal(calls(fm).length, 1);
});

t.test('an unexpected error from fetch is not retried and not disguised', async (t) => {
  const { fm, client } = setup();
  const boom = new RangeError('boom');
  fm.route('begin:https://gitlab.example.com/', { throws: boom });
  const err = await rejection(client.get('/projects'));
  t.equal(err, boom);
  t.equal(calls(fm).length, 1);
});

t.test('a 2xx body that is not JSON is asked again, then raises GitLabResponseError', async (t) => {
  const { fm, client, clock } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', { status: 200, body: '<html><title>Sign in</title></html>', headers: { 'content-type': 'text/html' } });
  const err = await rejection(client.get('/projects'));
  t.type(err, GitLabResponseError);
  t.match((err as Error).message, /GitLab answered 200 to GET \/api\/v4\/projects with a body that is not JSON/);
  t.equal(calls(fm).length, 3);
  t.same(clock.sleeps, [750, 1500]);
});

t.test('a truncated JSON body is retried like a 5xx and can recover', async (t) => {
  const { fm, client } = setup();
  fm.route('begin:https://gitlab.example.com/api/v4/projects', sequence([{ status: 200, body: '[{"id":1},{"id"', headers: { 'content-type': 'application/json' } }, { status: 200, body: [{ id: 1 }, { id: 2 }] }]));
  const res = await client.get('/projects');
  t.same(res.body, [{ id: 1 }, { id: 2 }]);
  t.equal(calls(fm).length, 2);
});

t.test("GitLab's clock is read from successful answers only: a proxy's 502 with a fast Date is ignored", async (t) => {
  const { fm, client } = setup();
  const gitlabNow = new Date(START).toUTCString();
  const fastProxy = new Date(START + 10 * 60_000).toUTCString();
  fm.route(
    'begin:https://gitlab.example.com/api/v4/projects',
    sequence([
      { status: 502, body: '<html><title>502 Bad Gateway</title></html>', headers: { 'content-type': 'text/html', date: fastProxy } },
      { status: 200, body: [{ id: 1 }], headers: { date: gitlabNow } },
    ]),
  );
  t.equal(client.serverTimeMs, null, 'unknown before any answer');
  await client.get('/projects');
  t.equal(calls(fm).length, 2);
  t.equal(client.serverTimeMs, START, "the 200's Date, not the 502's");
});

t.test("GitLab's clock ignores a 2xx whose body is not JSON and follows the latest answer, not the highest Date", async (t) => {
  const { fm, client } = setup();
  const at = (s: number) => new Date(START + s * 1000).toUTCString();
  fm.route(
    'begin:https://gitlab.example.com/api/v4/projects',
    sequence([
      { status: 200, body: '<html><title>Sign in</title></html>', headers: { 'content-type': 'text/html', date: at(600) } },
      { status: 200, body: [], headers: { date: at(300) } },
      { status: 200, body: [], headers: { date: at(5) } },
      { status: 200, body: [] },
      { status: 200, body: [], headers: { date: at(7) } },
    ]),
  );
  const seen: Array<number | null> = [];
  for (let i = 0; i < 4; i++) {
    await client.get('/projects');
    seen.push(client.serverTimeMs);
  }
  t.equal(calls(fm).length, 5, 'the sign-in page was asked again');
  t.same(seen, [START + 300_000, START + 5000, START + 5000, START + 7000], 'a later answer with an earlier Date wins; an answer without Date changes nothing');
});

t.test('counts requests, retries, 429s, bytes and time per endpoint and logs each request at debug', async (t) => {
  const { fm, client, clock, logger } = setup();
  const body = JSON.stringify([{ id: 1 }]);
  let n = 0;
  fm.route(`begin:${API}/projects/42/merge_requests`, () => {
    clock.advance(123);
    n += 1;
    return n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body, headers: { 'content-type': 'application/json' } };
  });
  fm.route(`begin:${API}/projects/43/merge_requests`, () => {
    clock.advance(7);
    return { status: 200, body, headers: { 'content-type': 'application/json' } };
  });
  await client.get('/projects/42/merge_requests', { per_page: 100 });
  await client.get('/projects/43/merge_requests');
  const m = client.metrics.snapshot();
  t.same(m.byEndpoint, {
    '/projects/:id/merge_requests': { requests: 3, retries: 1, rateLimited: 1, errors: 1, bytes: 2 * body.length, totalMs: 253 },
  });
  t.equal(m.requests, 3);
  t.equal(m.bytes, 2 * body.length);
  const debug = logger.lines.filter((l) => l.includes(' DEBUG '));
  t.same(
    debug.map((l) => l.replace(/^\S+ DEBUG /, '')),
    ['GET /projects/:id/merge_requests 429 123ms', 'GET /projects/:id/merge_requests 200 123ms', 'GET /projects/:id/merge_requests 200 7ms'],
  );
});

t.test('graphql posts the query to /api/graphql and returns data', async (t) => {
  const { fm, client } = setup();
  fm.route(`${ORIGIN}/api/graphql`, { status: 200, body: { data: { users: { nodes: [{ id: 'gid://gitlab/User/1' }] } } } });
  const data = await client.graphql('query($ids:[UserID!]){users(ids:$ids){nodes{id}}}', { ids: ['gid://gitlab/User/1'] });
  t.same(data, { data: { users: { nodes: [{ id: 'gid://gitlab/User/1' }] } }, errors: [] });
  const [call] = calls(fm);
  t.equal(call?.options.method?.toUpperCase(), 'POST');
  t.same(JSON.parse(String(call?.options.body)), { query: 'query($ids:[UserID!]){users(ids:$ids){nodes{id}}}', variables: { ids: ['gid://gitlab/User/1'] } });
  t.equal(call && headerOf(call, 'private-token'), TOKEN);
  t.equal(call && headerOf(call, 'content-type'), 'application/json');
});

t.test('graphql errors without data raise GitLabResponseError', async (t) => {
  const { fm, client } = setup();
  fm.route(`${ORIGIN}/api/graphql`, { status: 200, body: { errors: [{ message: "Field 'userz' doesn't exist" }] } });
  const err = await rejection(client.graphql('{userz}', {}));
  t.type(err, GitLabResponseError);
  t.match((err as Error).message, /Field 'userz' doesn't exist/);
});

t.test('graphql errors beside data (a partial answer) come back with the data, which is good', async (t) => {
  const { fm, client } = setup();
  fm.route(`${ORIGIN}/api/graphql`, { status: 200, body: { data: { users: { nodes: [{ id: 'gid://gitlab/User/1' }, null] } }, errors: [{ message: 'Internal server error', path: ['users', 'nodes', 1] }] } });
  t.same(await client.graphql('q', {}), { data: { users: { nodes: [{ id: 'gid://gitlab/User/1' }, null] } }, errors: ['Internal server error'] });
});

t.test('an aborted run stops waiting and does not retry', async (t) => {
  const ac = new AbortController();
  const { fm, client } = setup({ signal: ac.signal });
  fm.route('begin:https://gitlab.example.com/', () => {
    ac.abort(new Error('stop'));
    return { status: 503 };
  });
  const err = await rejection(client.get('/projects'));
  t.match((err as Error).message, 'stop');
  t.equal(calls(fm).length, 1);
});
