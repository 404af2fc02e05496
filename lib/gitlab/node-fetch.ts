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

/** A fetch over node:http/https (one keep-alive agent per protocol, for the life of the process). */
export function createNodeFetch(): typeof fetch {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

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

    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const failed = (err: unknown): void => settle(() => reject(new TypeError('fetch failed', { cause: err })));
      const secure = url.protocol === 'https:';
      const req = (secure ? https : http).request(url, { method: request.method, headers, agent: secure ? agents.https : agents.http }, (res) => {
        const status = res.statusCode ?? 0;
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
      });
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
