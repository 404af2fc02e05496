// @ts-check
/** Rate limiting (Rack::Attack-like fixed window) and injected faults for the GitLab simulator. */
import { createRng } from './random.mjs';

/**
 * @typedef {{ limit: number, windowMs: number }} RateLimitOptions
 * @typedef {object} FaultOptions
 * @property {number} [errorRate] share of requests answered with a 5xx
 * @property {boolean} [htmlErrors] some 5xx come as HTML pages (proxy/Cloudflare-like) instead of JSON
 * @property {number} [app429Rate] share answered with the header-less application 429
 * @property {number} [rack429Rate] share answered with a Rack::Attack 429 (Retry-After + RateLimit-*)
 * @property {number} [retryAfterSeconds] Retry-After of rack429 faults (default 1)
 * @property {number} [resetRate] share whose socket is destroyed without an answer
 * @property {number} [truncateRate] share of successful answers cut in the middle of the body
 * @property {number} [hangRate] share never answered (until the client gives up or close())
 * @property {number} [seed] seed of the fault draws (default 1)
 * @property {boolean} [echoRequest] the 5xx pages quote the request with its headers, token included, as a misconfigured proxy's debug page does (a client must never repeat what an error page says of its credentials)
 * @property {string[]} [routes] only these route keys (e.g. "GET /projects/:id/merge_requests"); all API routes when absent
 * @typedef {'hang' | 'reset' | 'error' | 'app429' | 'rack429' | 'truncate'} FaultKind
 * @typedef {{ status: number, headers: Record<string, string>, body: string }} Canned
 */

export class RateLimiter {
  /**
   * @param {RateLimitOptions} opts
   * @param {() => number} now
   */
  constructor(opts, now) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.now = now;
    this.windowStart = -1;
    this.count = 0;
  }

  reset() {
    this.windowStart = -1;
    this.count = 0;
  }

  /**
   * Counts one request; returns the informational headers and, when over the limit, the 429 to send.
   * @returns {{ headers: Record<string, string>, limited: Canned | null }}
   */
  hit() {
    const now = this.now();
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.count = 0;
    }
    this.count++;
    const end = start + this.windowMs;
    const headers = rateLimitHeaders(this.limit, this.windowMs, this.count, end);
    if (this.count <= this.limit) return { headers, limited: null };
    return { headers, limited: rack429(Math.ceil((end - now) / 1000), end, headers) };
  }
}

/**
 * @param {number} limit @param {number} windowMs @param {number} observed @param {number} endMs
 * @returns {Record<string, string>}
 */
export function rateLimitHeaders(limit, windowMs, observed, endMs) {
  return {
    'RateLimit-Name': 'throttle_authenticated_api',
    'RateLimit-Limit': String(Math.ceil((limit * 60_000) / windowMs)),
    'RateLimit-Observed': String(observed),
    'RateLimit-Remaining': String(Math.max(0, limit - observed)),
    'RateLimit-Reset': String(Math.ceil(endMs / 1000)),
  };
}

/**
 * Rack::Attack throttle answer: plain text, Retry-After in seconds, RateLimit-ResetTime as an HTTP date.
 * @param {number} retryAfterSeconds @param {number} resetMs @param {Record<string, string>} headers
 * @returns {Canned}
 */
export function rack429(retryAfterSeconds, resetMs, headers) {
  return {
    status: 429,
    headers: { ...headers, 'Content-Type': 'text/plain', 'Retry-After': String(Math.max(0, retryAfterSeconds)), 'RateLimit-ResetTime': new Date(resetMs).toUTCString() },
    body: 'Retry later\n',
  };
}

/** The application limiter's 429: no Retry-After, no RateLimit-* headers. @returns {Canned} */
export function app429() {
  return {
    status: 429,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: { error: 'This endpoint has been requested too many times. Try again later.' } }),
  };
}

const CLOUDFLARE_502 = `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html lang="en-US"><head><title>gitlab.simulator.test | 502: Bad gateway</title>
<meta charset="UTF-8" /></head><body><div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="inline-block">Bad gateway</span> <span class="code-label">Error code 502</span></h1>
<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a> for more information.</p>
<span class="cf-footer-item">Cloudflare Ray ID: <strong>7d2f1c0e9a8b6c5d</strong></span></div></div></body></html>
`;
const NGINX_504 = '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const GITLAB_503 = '<!DOCTYPE html><html><head><title>We\'ll be right back (503)</title></head><body><h1>503</h1><h2>We\'ll be right back.</h2><p>GitLab is undergoing maintenance.</p></body></html>\n';
const CF_520 = '<!DOCTYPE html><html><head><title>520: Web server is returning an unknown error</title></head><body><h1>Web server is returning an unknown error</h1><span>Error code 520</span></body></html>\n';

/** @type {Canned[]} */
const JSON_ERRORS = [
  { status: 500, headers: { 'Content-Type': 'application/json' }, body: '{"message":"500 Internal Server Error"}' },
  { status: 502, headers: { 'Content-Type': 'application/json' }, body: '{"message":"502 Bad Gateway"}' },
  { status: 503, headers: { 'Content-Type': 'application/json' }, body: '{"message":"503 Service Unavailable"}' },
];
/** @type {Canned[]} */
const HTML_ERRORS = [
  { status: 502, headers: { 'Content-Type': 'text/html; charset=UTF-8', Server: 'cloudflare' }, body: CLOUDFLARE_502 },
  { status: 504, headers: { 'Content-Type': 'text/html' , Server: 'nginx' }, body: NGINX_504 },
  { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: GITLAB_503 },
  { status: 520, headers: { 'Content-Type': 'text/html; charset=UTF-8', Server: 'cloudflare' }, body: CF_520 },
];

export class FaultInjector {
  /** @param {FaultOptions | null | undefined} faults */
  constructor(faults) {
    /** @type {FaultOptions | null} */
    this.faults = null;
    this.rng = createRng(1);
    this.set(faults);
  }

  /** @param {FaultOptions | null | undefined} faults */
  set(faults) {
    this.faults = faults && Object.keys(faults).length > 0 ? { ...faults } : null;
    this.rng = createRng(faults?.seed ?? 1);
  }

  /**
   * Draws the fault (if any) for one request.
   * @param {string} routeKey
   * @returns {FaultKind | null}
   */
  draw(routeKey) {
    const f = this.faults;
    if (!f) return null;
    if (f.routes && !f.routes.includes(routeKey)) return null;
    const r = this.rng.next();
    let acc = 0;
    /** @type {Array<[FaultKind, number | undefined]>} */
    const table = [['hang', f.hangRate], ['reset', f.resetRate], ['error', f.errorRate], ['app429', f.app429Rate], ['rack429', f.rack429Rate], ['truncate', f.truncateRate]];
    for (const [kind, rate] of table) {
      acc += rate ?? 0;
      if (r < acc) return kind;
    }
    return null;
  }

  /**
   * A 5xx answer: JSON, or with htmlErrors also proxy/Cloudflare HTML pages; with echoRequest, quoting `request`.
   * @param {string} [request] the request line and headers, as received
   * @returns {Canned}
   */
  errorResponse(request) {
    const pool = this.faults?.htmlErrors ? [...JSON_ERRORS, ...HTML_ERRORS] : JSON_ERRORS;
    const canned = this.rng.pick(pool);
    if (!this.faults?.echoRequest || request === undefined) return canned;
    const quoted = canned.headers['Content-Type']?.includes('html') ? `${canned.body}<pre>${request}</pre>` : JSON.stringify({ message: `${canned.status} upstream failed for ${request}` });
    return { ...canned, body: quoted };
  }

  /** @param {number} now @returns {Canned} */
  rack429(now) {
    const secs = this.faults?.retryAfterSeconds ?? 1;
    const end = now + secs * 1000;
    return rack429(secs, end, rateLimitHeaders(2000, 60_000, 2001, end));
  }
}
