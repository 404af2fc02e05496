/**
 * The fetch the CLI gives ky: the Fetch API over node:http / node:https with keep-alive agents.
 * Node's built-in fetch (undici) compiles its WebAssembly HTTP parser on first use, which costs
 * about 30 MB of memory and 20 ms before the first request; node's own HTTP parser is already
 * there. The client needs only what this provides: method, headers, a text body, `redirect:
 * 'manual'` (the client follows redirects itself), the abort signal, and the whole response body
 * (gzip, deflate and br decoded, as fetch does). Failures reject like fetch's: a TypeError
 * "fetch failed" whose `cause` is the socket error (ECONNREFUSED, ECONNRESET, ...), or the
 * signal's reason when it aborts.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { proxyAuthorization, proxyError, proxyFor, tunnelingAgent, type ProxyEnv, type TunnelOptions } from './proxy.js';

/** Statuses whose responses have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function decoded(res: http.IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  if (encoding === 'deflate') return res.pipe(zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  if (encoding === 'br') return res.pipe(zlib.createBrotliDecompress());
  return res;
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * A Response whose body is already in memory: `arrayBuffer()`/`text()` hand it over without the
 * ReadableStream (and its copy) that `new Response(bytes)` would wrap it in. It can be read once,
 * like any Response; `clone()` (which ky only uses for hooks and download progress, neither of
 * which the client sets) would carry no body.
 */
class BufferedResponse extends Response {
  #bytes: Buffer | null;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  #take(): Buffer {
    const bytes = this.#bytes;
    if (bytes === null) throw new TypeError('Body is unusable: Body has already been read');
    this.#bytes = null;
    return bytes;
  }

  override get bodyUsed(): boolean {
    return this.#bytes === null;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    try {
      const b = this.#take();
      // A Buffer may be a view into a larger pool: hand over exactly its bytes.
      return Promise.resolve(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override text(): Promise<string> {
    try {
      // As fetch reads text: UTF-8, a leading BOM dropped.
      return Promise.resolve(new TextDecoder().decode(this.#take()));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}

export interface NodeFetchOptions {
  /** Where the proxy settings come from (https_proxy, http_proxy, no_proxy; see proxy.ts). None: no proxy. */
  env?: ProxyEnv;
}

/** How one request is sent: its module, agent and request options (a proxy's or the target's). */
function routeFor(url: URL, env: ProxyEnv | undefined, agents: Map<string, http.Agent>): { send: typeof http.request; options: http.RequestOptions } {
  const secure = url.protocol === 'https:';
  const proxy = env === undefined ? null : proxyFor(url, env);
  const keyOf = proxy === null ? url.protocol : `${url.protocol} ${proxy.href}`;
  let agent = agents.get(keyOf);
  if (proxy === null) {
    agent ??= secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    agents.set(keyOf, agent);
    return { send: secure ? https.request : http.request, options: { agent } };
  }
  if (secure) {
    agent ??= tunnelingAgent(proxy);
    agents.set(keyOf, agent);
    return { send: https.request, options: { agent } };
  }
  // http:// through the proxy: the request goes to the proxy, its target in absolute form.
  const toProxySecurely = proxy.protocol === 'https:';
  agent ??= toProxySecurely ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  agents.set(keyOf, agent);
  const auth = proxyAuthorization(proxy);
  return {
    send: toProxySecurely ? https.request : http.request,
    options: {
      agent,
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || (toProxySecurely ? 443 : 80),
      path: url.href,
      ...(auth === undefined ? {} : { headers: { 'proxy-authorization': auth } }),
    },
  };
}

/** A fetch over node:http/https (keep-alive agents, one per protocol and proxy, for the life of the process). */
export function createNodeFetch(opts: NodeFetchOptions = {}): typeof fetch {
  const agents = new Map<string, http.Agent>();

  return async function nodeFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    // ky hands over its Request and an empty options object: building another Request would only cost time.
    const request = input instanceof Request && (init === undefined || Object.keys(init).length === 0) ? input : new Request(input, init);
    const url = new URL(request.url);
    const signal = request.signal;
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : Buffer.from(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    headers['accept-encoding'] ??= 'gzip, deflate, br';
    if (body !== null) headers['content-length'] = String(body.byteLength);
    if (signal.aborted) throw abortReason(signal);
    let route: ReturnType<typeof routeFor>;
    try {
      route = routeFor(url, opts.env, agents);
    } catch (err) {
      throw new TypeError('fetch failed', { cause: err });
    }
    const { send, options } = route;
    // The request's signal reaches a proxy tunnel being set up for it (node hands the agent every option but `signal`).
    const requestOptions: http.RequestOptions & TunnelOptions = { ...options, method: request.method, headers: { ...headers, ...options.headers }, tunnelSignal: signal };

    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const failed = (err: unknown): void => settle(() => reject(new TypeError('fetch failed', { cause: err })));
      const onResponse = (res: http.IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        // Through a proxy for http://, a 407 is the proxy's answer, not GitLab's.
        if (status === 407 && options.path !== undefined) {
          res.resume();
          failed(proxyError(`the proxy answered 407 ${res.statusMessage ?? ''} to ${request.method} ${url.origin}`.trim(), 407));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('error', failed);
        res.on('close', () => {
          if (!res.complete) failed(Object.assign(new Error('other side closed'), { code: 'ECONNRESET' }));
        });
        const stream = decoded(res);
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', failed);
        stream.on('end', () => {
          settle(() => {
            try {
              const init = { status, statusText: res.statusMessage ?? '', headers: headersOf(res.rawHeaders) };
              resolve(NULL_BODY.has(status) ? new Response(null, init) : new BufferedResponse(Buffer.concat(chunks), init));
            } catch (err) {
              reject(new TypeError('fetch failed', { cause: err }));
            }
          });
        });
      };
      // Through a proxy for http://, the options name the proxy and the path is the whole URL; otherwise the URL is the target.
      const req = options.path === undefined ? send(url, requestOptions, onResponse) : send({ ...requestOptions, headers: { ...requestOptions.headers, host: url.host } }, onResponse);
      const onAbort = (): void => {
        settle(() => reject(abortReason(signal)));
        req.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', failed);
      req.end(body ?? undefined);
    });
  };
}
