import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import ky from 'ky';
import { fakeClock } from '../lib/clock.js';
import { GitLabHttpError } from '../lib/errors.js';
import { GitLabClient } from '../lib/gitlab/client.js';
import { createNodeFetch } from '../lib/gitlab/node-fetch.js';
import { memoryLogger } from '../lib/log.js';
import { classifyNetworkError } from '../lib/gitlab/network-error.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A server on 127.0.0.1 answering with `handler`, recording every request; closed at the end of the test. */
async function serve(t: Test, handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

t.test('a GET through ky: status, every response header, the body bytes, and the request headers as sent', async (t) => {
  const { url, seen } = await serve(t, (_req, res) => {
    res.writeHead(200, [
      ['Content-Type', 'application/json'],
      ['X-Total', '3'],
      ['Link', '<a>; rel="next"'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    res.end('[{"id":1,"title":"Zoë ✓"}]');
  });
  const fetch = createNodeFetch();
  const res = await ky(`${url}/api/v4/projects?page=2`, { fetch, headers: { 'private-token': 'tok', accept: 'application/json' }, retry: 0, throwHttpErrors: false, timeout: false, redirect: 'manual' });
  t.equal(res.status, 200);
  t.equal(res.headers.get('x-total'), '3');
  t.equal(res.headers.get('link'), '<a>; rel="next"');
  t.same(res.headers.getSetCookie(), ['a=1', 'b=2']);
  t.same(JSON.parse(new TextDecoder().decode(await res.arrayBuffer())), [{ id: 1, title: 'Zoë ✓' }]);
  t.equal(seen.length, 1);
  t.match(seen[0], { method: 'GET', url: '/api/v4/projects?page=2', headers: { 'private-token': 'tok', accept: 'application/json', 'accept-encoding': 'gzip, deflate, br' }, body: '' });
});

t.test('a body is handed over whole and once: text, json or bytes, then bodyUsed and a second read refused', async (t) => {
  const big = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, title: `Zoë ✓ ${i}` })));
  const { url } = await serve(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/small' ? '{"ok":true}' : big);
  });
  const fetch = createNodeFetch();
  const large = await fetch(`${url}/large`);
  t.notOk(large.bodyUsed);
  const bytes = new Uint8Array(await large.arrayBuffer());
  t.equal(bytes.byteLength, Buffer.byteLength(big), 'exactly the body bytes (no pool padding)');
  t.equal(new TextDecoder().decode(bytes), big);
  t.ok(large.bodyUsed);
  await t.rejects(large.text(), TypeError, 'a body is read once');
  const small = await fetch(`${url}/small`);
  t.equal((await small.arrayBuffer()).byteLength, 11, 'a small body (from the Buffer pool) is exactly its bytes too');
  t.same(await (await fetch(`${url}/small`)).json(), { ok: true });
  t.equal(await (await fetch(`${url}/large`)).text(), big);
});

t.test('text() reads a body as fetch does: UTF-8 with a leading BOM dropped, a bad byte as U+FFFD', async (t) => {
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"Zoë"}'), Buffer.from([0xff])]);
  const { url } = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  const text = await createNodeFetch()(url).then((r) => r.text());
  t.equal(text, await new Response(body).text());
  t.equal(text, '{"name":"Zoë"}\ufffd');
});

t.test('gzip, deflate and br bodies are decoded, as fetch does', async (t) => {
  const text = JSON.stringify({ description: 'é'.repeat(5000) });
  const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
  const { url } = await serve(t, (req, res) => {
    const enc = (req.url ?? '').slice(1);
    const encode = encoders[enc];
    if (!encode) throw new Error(`no encoder ${enc}`);
    res.writeHead(200, { 'Content-Encoding': enc, 'Content-Type': 'application/json' });
    res.end(encode(Buffer.from(text)));
  });
  const fetch = createNodeFetch();
  for (const enc of Object.keys(encoders)) {
    const res = await fetch(`${url}/${enc}`);
    t.equal(await res.text(), text, enc);
  }
});

t.test('a POST sends its body with its length; a redirect is handed back, not followed; a 204 has no body', async (t) => {
  const { url, seen } = await serve(t, (req, res) => {
    if (req.url === '/graphql') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"data":{}}');
    } else if (req.url === '/moved') {
      res.writeHead(301, { Location: '/elsewhere' });
      res.end();
    } else {
      res.writeHead(204);
      res.end();
    }
  });
  const fetch = createNodeFetch();
  const query = JSON.stringify({ query: 'query { users { nodes { id } } }', variables: { ids: ['gid://gitlab/User/1'] } });
  const post = await ky(`${url}/graphql`, { fetch, method: 'POST', body: query, headers: { 'content-type': 'application/json' }, retry: 0, timeout: false });
  t.equal(await post.text(), '{"data":{}}');
  t.match(seen[0], { method: 'POST', body: query, headers: { 'content-length': String(Buffer.byteLength(query)), 'content-type': 'application/json' } });
  const moved = await ky(`${url}/moved`, { fetch, retry: 0, throwHttpErrors: false, timeout: false, redirect: 'manual' });
  t.equal(moved.status, 301);
  t.equal(moved.headers.get('location'), '/elsewhere');
  t.equal(seen.length, 2, 'the redirect was not followed');
  const empty = await fetch(`${url}/nothing`);
  t.equal(empty.status, 204);
  t.equal(empty.body, null);
});

t.test('an abort rejects with the signal reason (a timeout as TimeoutError) and stops the request', async (t) => {
  let closed = 0;
  const { url } = await serve(t, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('[');
    req.socket.on('close', () => {
      closed += 1;
    });
  });
  const fetch = createNodeFetch();
  const err = await fetch(`${url}/slow`, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
  t.match(err, { name: 'TimeoutError' });
  t.match(classifyNetworkError(err), { code: 'NETWORK_TIMEOUT' });
  const controller = new AbortController();
  const pending = fetch(`${url}/slow`, { signal: controller.signal }).catch((e: unknown) => e);
  setTimeout(() => controller.abort(), 20);
  t.match(await pending, { name: 'AbortError' });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(closed, 2, 'both connections were closed');
  const already = new AbortController();
  already.abort();
  t.match(await fetch(`${url}/x`, { signal: already.signal }).catch((e: unknown) => e), { name: 'AbortError' });
});

t.test('network failures reject like fetch: TypeError "fetch failed" with the socket error as cause', async (t) => {
  const fetch = createNodeFetch();
  // A port that was just free: connection refused.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
  t.type(refused, TypeError);
  t.match(refused, { message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  t.match(classifyNetworkError(refused), { code: 'NETWORK_REFUSED' });

  const { url } = await serve(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
    res.write('[{"id":1');
    setTimeout(() => res.socket?.destroy(), 10);
  });
  const cut = await fetch(`${url}/cut`).catch((e: unknown) => e);
  t.type(cut, TypeError);
  t.match(classifyNetworkError(cut), { code: 'NETWORK_RESET' });
});

t.test('the GitLab client over this fetch: JSON pages, GitLab error messages, retries after a 503', async (t) => {
  let calls = 0;
  const { url, seen } = await serve(t, (req, res) => {
    calls += 1;
    if (req.url?.startsWith('/api/v4/projects/1/merge_requests')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Total': '1' });
      res.end('[{"id":7,"title":"Résumé ✓"}]');
    } else if (req.url === '/api/v4/projects/2' && calls < 4) {
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end('<html>busy</html>');
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"404 Project Not Found"}');
    }
  });
  const client = new GitLabClient({
    apiUrl: url,
    token: 'glpat-test',
    tokenType: 'private',
    userAgent: 'tap-gitlab/test',
    timeoutMs: 5_000,
    maxRetries: 2,
    concurrency: 2,
    fetch: createNodeFetch(),
    clock: fakeClock(Date.UTC(2024, 0, 1)),
    logger: memoryLogger('error'),
    random: () => 0,
  });
  const page = await client.get('/projects/1/merge_requests', { per_page: 100 });
  t.same(page.body, [{ id: 7, title: 'Résumé ✓' }]);
  t.equal(page.headers.get('x-total'), '1');
  const err = await client.get('/projects/2').catch((e: unknown) => e);
  t.type(err, GitLabHttpError);
  t.match(err, { status: 404, gitlabMessage: '404 Project Not Found' });
  t.same(
    seen.map((s) => `${s.method} ${s.url} ${String(s.headers['private-token'])}`),
    ['GET /api/v4/projects/1/merge_requests?per_page=100 glpat-test', 'GET /api/v4/projects/2 glpat-test', 'GET /api/v4/projects/2 glpat-test', 'GET /api/v4/projects/2 glpat-test'],
  );
});
