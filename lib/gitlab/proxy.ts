/**
 * HTTP proxies from the environment, as curl, Python's requests (and so most Singer taps) read them:
 * `https_proxy`/`HTTPS_PROXY` for https:// addresses, `http_proxy`/`HTTP_PROXY` for http:// ones, the
 * lower-case name first, and `no_proxy`/`NO_PROXY` for the hosts reached directly. An https address goes
 * through a CONNECT tunnel (the proxy sees only host and port; TLS runs end to end); an http one is sent
 * to the proxy in absolute form. Loopback addresses are always reached directly. A proxy's `user:password@` becomes a Basic `Proxy-Authorization` and
 * is never written anywhere else.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** The signal of the request a tunnel is made for: aborting it (a timeout, SIGTERM) ends the CONNECT too. */
export interface TunnelOptions {
  tunnelSignal?: AbortSignal;
}

function envValue(env: ProxyEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Whether `host` (an IP address) lies in `cidr` (`10.0.0.0/8`, `fd00::/8`). */
function inRange(host: string, cidr: string): boolean {
  const [base = '', bits = ''] = cidr.split('/');
  const family = net.isIP(base);
  if (family === 0 || net.isIP(host) !== family || !/^\d{1,3}$/.test(bits)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether `no_proxy` says to reach `url` directly: `*`, a host, `.domain` or `domain` (its subdomains too), an IP
 * address (IPv6 bare or in brackets), a CIDR range, each name maybe with `:port`.
 */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (net.isIP(entry) !== 0) {
      if (net.isIP(host) !== 0 && new URL(`http://${entry.includes(':') ? `[${entry}]` : entry}`).hostname.replace(/^\[|\]$/g, '') === host) return true;
      continue;
    }
    if (entry.includes('/')) {
      if (inRange(host, entry)) return true;
      continue;
    }
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    const name = (m[1] as string).replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** A URL hostname that is this machine: never through a proxy (as Go's ProxyFromEnvironment does), nor a remote host. */
export const isLoopback = (hostname: string): boolean => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(hostname);

/** The proxy for `url` by the environment, or null for a direct connection. Throws on a proxy that is no http(s):// URL. */
export function proxyFor(url: URL, env: ProxyEnv): URL | null {
  const raw = envValue(env, url.protocol === 'https:' ? 'https_proxy' : 'http_proxy');
  if (raw === undefined || isLoopback(url.hostname) || bypassesProxy(url, envValue(env, 'no_proxy'))) return null;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw proxyError(`the proxy setting for ${url.protocol.replace(':', '')}:// addresses is not a URL`);
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw proxyError(`the proxy's scheme "${proxy.protocol.replace(':', '')}" is not supported (http:// or https:// only)`);
  return proxy;
}

/** A proxy as it may be shown: no credentials. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** `Proxy-Authorization` for a proxy URL with credentials. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  // As curl and requests do, a `%` that starts no escape (`100%secure`) stays as it is.
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const credentials = `${decode(proxy.username)}:${decode(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** A proxy failure, with code EPROXY: the network error classification names the proxy, not GitLab. */
export function proxyError(message: string, status?: number): Error {
  return Object.assign(new Error(message), { code: 'EPROXY', ...(status === undefined ? {} : { status }) });
}

/** Connects to the proxy itself (TLS when it is an https:// proxy). */
function connectToProxy(proxy: URL): http.ClientRequest {
  const secure = proxy.protocol === 'https:';
  return (secure ? https : http).request({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxy.port || (secure ? 443 : 80),
    method: 'CONNECT',
    agent: false,
  });
}

/**
 * A keep-alive agent for https:// addresses whose sockets are TLS over a CONNECT tunnel through `proxy`.
 * The tunnel's request carries only `host:port` and the proxy's credentials; GitLab's token travels inside TLS.
 */
export function tunnelingAgent(proxy: URL): https.Agent {
  const auth = proxyAuthorization(proxy);
  class TunnelingAgent extends https.Agent {
    override createConnection(options: tls.ConnectionOptions & TunnelOptions & { host?: string; port?: number | string; servername?: string }, callback: (err: Error | null, socket?: Duplex) => void): undefined {
      const host = options.host ?? 'localhost';
      const port = Number(options.port ?? 443);
      const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const req = connectToProxy(proxy);
      req.path = target;
      req.setHeader('host', target);
      if (auth !== undefined) req.setHeader('proxy-authorization', auth);
      let done = false;
      const { tunnelSignal, ...tlsOptions } = options;
      const onAbort = (): void => {
        req.destroy();
        fail(Object.assign(proxyError(`the CONNECT to the proxy ${describeProxy(proxy)} was given up`), { cause: tunnelSignal?.reason }));
      };
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        tunnelSignal?.removeEventListener('abort', onAbort);
        callback(err);
      };
      // A proxy that never answers must not hold the process: the request's timeout or a signal ends the CONNECT.
      if (tunnelSignal?.aborted === true) {
        onAbort();
        return undefined;
      }
      tunnelSignal?.addEventListener('abort', onAbort, { once: true });
      req.once('connect', (res, socket) => {
        tunnelSignal?.removeEventListener('abort', onAbort);
        if (done) {
          socket.destroy();
          return;
        }
        if (res.statusCode !== 200) {
          socket.destroy();
          fail(proxyError(`the proxy ${describeProxy(proxy)} answered ${res.statusCode ?? 0} ${res.statusMessage ?? ''} to CONNECT ${target}`.trim(), res.statusCode));
          return;
        }
        done = true;
        const secure = tls.connect({ ...tlsOptions, socket, servername: options.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host) });
        callback(null, secure);
      });
      req.once('error', (err) => fail(Object.assign(proxyError(`could not reach the proxy ${describeProxy(proxy)}: ${err.message}`), { cause: err })));
      req.end();
      return undefined;
    }
  }
  return new TunnelingAgent({ keepAlive: true });
}
