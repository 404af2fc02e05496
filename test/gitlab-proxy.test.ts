import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { bypassesProxy, describeProxy, proxyAuthorization, proxyFor, tunnelingAgent } from '../lib/gitlab/proxy.js';
import { createNodeFetch } from '../lib/gitlab/node-fetch.js';
import { classifyNetworkError } from '../lib/gitlab/network-error.js';

const cert = readFileSync(new URL('./fixtures/tls/gitlab.example.test.crt', import.meta.url));
const key = readFileSync(new URL('./fixtures/tls/gitlab.example.test.key', import.meta.url));

async function listen(t: Test, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders }

/** A forward proxy on 127.0.0.1: absolute-form requests answered itself, CONNECT tunnelled to `tunnelTo` (or refused with `refuse`). */
async function proxy(t: Test, opts: { tunnelTo?: number; refuse?: number } = {}): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ via: 'proxy', url: req.url }));
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (opts.refuse !== undefined || opts.tunnelTo === undefined) {
      socket.end(`HTTP/1.1 ${opts.refuse ?? 502} Refused\r\n\r\n`);
      return;
    }
    const upstream = net.connect(opts.tunnelTo, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}`, seen };
}

t.test('the proxy is read from the environment as curl and requests read it', async (t) => {
  const gitlab = new URL('https://gitlab.example.test/api/v4');
  t.equal(proxyFor(gitlab, {}), null, 'none set: direct');
  t.equal(proxyFor(gitlab, { HTTPS_PROXY: 'http://proxy:3128' })?.href, 'http://proxy:3128/');
  t.equal(proxyFor(gitlab, { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })?.host, 'lower:1', 'the lower-case name first');
  t.equal(proxyFor(gitlab, { HTTP_PROXY: 'http://proxy:3128' }), null, 'http_proxy is for http:// addresses');
  t.equal(proxyFor(new URL('http://gitlab.example.test'), { HTTP_PROXY: 'proxy:3128' })?.href, 'http://proxy:3128/', 'a bare host:port is http://');
  t.equal(proxyFor(new URL('http://127.0.0.1:8080'), { http_proxy: 'http://proxy:3128' }), null, 'loopback is always direct');
  t.equal(proxyFor(gitlab, { https_proxy: '  ' }), null, 'a blank setting is none');
  t.throws(() => proxyFor(gitlab, { https_proxy: 'socks5://proxy:1080' }), { code: 'EPROXY', message: /"socks5" is not supported/ });
});

t.test('no_proxy: *, hosts, domains with their subdomains, ports', async (t) => {
  const url = new URL('https://gitlab.corp.example:8443/api');
  for (const [list, expected] of [
    ['*', true],
    ['gitlab.corp.example', true],
    ['corp.example', true],
    ['.corp.example', true],
    ['*.corp.example', true],
    ['example', true],
    ['other.example, gitlab.corp.example:8443', true],
    ['gitlab.corp.example:443', false],
    ['orp.example', false],
    ['other.example localhost', false],
    ['', false],
  ] as const) {
    t.equal(bypassesProxy(url, list), expected, JSON.stringify(list));
  }
  t.equal(proxyFor(url, { https_proxy: 'http://proxy:3128', NO_PROXY: 'corp.example' }), null);
  const ip = (u: string, list: string): boolean => bypassesProxy(new URL(u), list);
  t.ok(ip('https://[fd00::5]/', 'fd00::5'), 'a bare IPv6 address');
  t.ok(ip('https://[fd00::5]/', 'fd00:0:0::5'), 'written another way');
  t.ok(ip('https://[fd00::5]/', '[fd00::5]'), 'in brackets');
  t.ok(ip('https://10.1.2.3/', '10.0.0.0/8'), 'an IPv4 range');
  t.notOk(ip('https://11.1.2.3/', '10.0.0.0/8'));
  t.ok(ip('https://[fd00::5]/', 'fd00::/8'), 'an IPv6 range');
  t.notOk(ip('https://gitlab.example.test/', '10.0.0.0/8'), 'a range never matches a name');
  t.ok(ip('https://10.1.2.3/', '10.1.2.3'), 'an IPv4 address');
});

t.test("the proxy's credentials become a Basic Proxy-Authorization and are never shown", async (t) => {
  const p = new URL('http://us%40er:p%3Ass@proxy.corp:3128');
  t.equal(proxyAuthorization(p), `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  t.equal(proxyAuthorization(new URL('http://proxy.corp:3128')), undefined);
  t.equal(proxyAuthorization(new URL('http://bob:100%secure@proxy.corp:3128')), `Basic ${Buffer.from('bob:100%secure').toString('base64')}`, 'a % that starts no escape stays, as curl keeps it');
  t.equal(describeProxy(p), 'http://proxy.corp:3128');
});

t.test('an http:// GitLab goes to the proxy in absolute form, with the proxy credentials and the token as sent', async (t) => {
  const { url, seen } = await proxy(t);
  const fetch = createNodeFetch({ env: { http_proxy: url.replace('http://', 'http://user:secret@') } });
  const res = await fetch('http://gitlab.example.test/api/v4/user?x=1', { headers: { 'private-token': 'tok' } });
  t.same(await res.json(), { via: 'proxy', url: 'http://gitlab.example.test/api/v4/user?x=1' });
  t.equal(seen.length, 1);
  t.match(seen[0], { method: 'GET', url: 'http://gitlab.example.test/api/v4/user?x=1', headers: { host: 'gitlab.example.test', 'private-token': 'tok', 'proxy-authorization': `Basic ${Buffer.from('user:secret').toString('base64')}` } });
});

t.test('an https:// GitLab is reached through a CONNECT tunnel, TLS end to end with its own name', async (t) => {
  const served: Seen[] = [];
  const gitlab = https.createServer({ key, cert }, (req, res) => {
    served.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"username":"ada"}');
  });
  const gitlabPort = await listen(t, gitlab);
  const { url, seen } = await proxy(t, { tunnelTo: gitlabPort });
  const agent = tunnelingAgent(new URL(url.replace('http://', 'http://user:secret@')));
  t.teardown(() => agent.destroy());
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.request('https://gitlab.example.test/api/v4/user', { agent, ca: cert, headers: { 'private-token': 'tok' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(body, '{"username":"ada"}');
  t.match(seen, [{ method: 'CONNECT', url: 'gitlab.example.test:443', headers: { 'proxy-authorization': `Basic ${Buffer.from('user:secret').toString('base64')}` } }]);
  t.notOk('private-token' in (seen[0]?.headers ?? {}), 'the token travels only inside TLS');
  t.match(served, [{ method: 'GET', url: '/api/v4/user', headers: { host: 'gitlab.example.test', 'private-token': 'tok' } }]);
});

t.test("the tap's fetch tunnels https:// through https_proxy; the certificate is checked as without a proxy", async (t) => {
  const gitlab = https.createServer({ key, cert }, (_req, res) => res.end('{}'));
  const { url, seen } = await proxy(t, { tunnelTo: await listen(t, gitlab) });
  const fetch = createNodeFetch({ env: { HTTPS_PROXY: url } });
  const err = await fetch('https://gitlab.example.test/api/v4/user').then(
    () => null,
    (e: unknown) => e,
  );
  t.match(seen, [{ method: 'CONNECT', url: 'gitlab.example.test:443' }]);
  t.match(classifyNetworkError(err), { code: 'NETWORK_TLS' }, 'a certificate this machine does not trust is refused through the tunnel too');
});

t.test('a proxy that refuses the tunnel or cannot be reached is named, and a 407 is not retried', async (t) => {
  const refusing = await proxy(t, { refuse: 407 });
  const err407 = await createNodeFetch({ env: { https_proxy: refusing.url } })('https://gitlab.example.test/').then(() => null, (e: unknown) => e);
  const f407 = classifyNetworkError(err407);
  t.match(f407, { code: 'NETWORK_PROXY', detail: /the proxy http:\/\/127\.0\.0\.1:\d+ answered 407 Refused to CONNECT gitlab\.example\.test:443/ });
  t.equal(f407?.retryLimit(8), 0);
  const closed = net.createServer();
  const port = await listen(t, closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const errDown = await createNodeFetch({ env: { https_proxy: `http://user:secret@127.0.0.1:${port}` } })('https://gitlab.example.test/').then(() => null, (e: unknown) => e);
  const fDown = classifyNetworkError(errDown);
  t.match(fDown, { code: 'NETWORK_PROXY', detail: /could not reach the proxy http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/ });
  t.notMatch(fDown?.detail ?? '', /secret/);
  t.equal(fDown?.retryLimit(8), 2);
});

t.test('a proxy that never answers CONNECT does not hold the run: the request\'s abort (its timeout, a signal) ends the tunnel', async (t) => {
  let closed = 0;
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => {
    sockets.push(socket);
    socket.resume(); // reads (and drops) the CONNECT, so that it sees the client go
    socket.on('close', () => (closed += 1));
  });
  const port = await listen(t, silent);
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  const fetch = createNodeFetch({ env: { https_proxy: `http://127.0.0.1:${port}` } });
  const started = Date.now();
  const err = await fetch('https://gitlab.example.test/api/v4/user', { signal: AbortSignal.timeout(100) }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof Error, 'the request fails');
  t.ok(Date.now() - started < 2000, 'at its timeout');
  for (let i = 0; i < 50 && closed === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
  t.equal(closed, 1, 'and the CONNECT to the proxy is closed, so nothing keeps the process alive');
});

t.test('a proxy setting the tap cannot use fails the request as a proxy problem, not as a crash', async (t) => {
  const err = await createNodeFetch({ env: { https_proxy: 'socks5://127.0.0.1:1080' } })('https://gitlab.example.test/').then(() => null, (e: unknown) => e);
  t.type(err, TypeError);
  t.match(classifyNetworkError(err), { code: 'NETWORK_PROXY', detail: /"socks5" is not supported/ });
});

t.test('a 407 from the proxy of an http:// GitLab is the proxy\'s problem, not GitLab\'s', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(407, { 'proxy-authenticate': 'Basic realm="corp"' });
    res.end('auth');
  });
  const port = await listen(t, server);
  const err = await createNodeFetch({ env: { http_proxy: `http://bob:wrong@127.0.0.1:${port}` } })('http://gitlab.example.test/api/v4/user').then(() => null, (e: unknown) => e);
  const f = classifyNetworkError(err);
  t.match(f, { code: 'NETWORK_PROXY', detail: /the proxy answered 407/ });
  t.equal(f?.retryLimit(8), 0);
  t.notMatch(f?.detail ?? '', /wrong/);
});
