/**
 * The GitLab REST client. Every call the tap makes goes through it: auth header, User-Agent,
 * timeout, the shared pacer (concurrency, 429 pauses, pacing), retries with backoff, redirects
 * within the configured origin, typed errors and metrics. Built on ky with ky's own retries
 * and HTTP errors turned off, so that every wait goes through the injected Clock.
 */
import ky from 'ky';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { GitLabHttpError, GitLabResponseError, redact } from '../errors.js';
import type { Logger } from '../log.js';
import { httpError } from './http-error.js';
import { ClientMetrics, endpointOf } from './metrics.js';
import { classifyNetworkError, networkError } from './network-error.js';
import { EndpointLimiter, type EndpointLimit } from './endpoint-limits.js';
import { Pacer } from './pacer.js';
import { BAD_BODY_RETRIES, MAX_SERVER_WAIT_MS, backoffMs, isRedirectStatus, isRetryableStatus, parseHttpDate, rateLimitWait, serverErrorWait } from './retry-policy.js';

export type Query = Record<string, string | number | boolean | undefined | Array<string | number>>;

export interface GitLabResponse {
  status: number;
  headers: Headers;
  body: unknown;
  /** The URL that answered (after redirects); never carries the token. */
  url: string;
}

export interface ClientOptions {
  apiUrl: string;
  token: string;
  tokenType: 'private' | 'bearer';
  userAgent: string;
  timeoutMs: number;
  maxRetries: number;
  concurrency: number;
  fetch?: typeof fetch;
  clock?: Clock;
  logger: Logger;
  random?: () => number;
  signal?: AbortSignal;
  /** Per-endpoint windows (default: GitLab's application limits); [] turns them off. */
  endpointLimits?: readonly EndpointLimit[];
}

/** Redirect hops followed for one request. */
export const MAX_REDIRECTS = 5;
const API_PATH = '/api/v4';
/** Query parameters that would carry a credential: never sent. */
const SECRET_PARAMS = ['private_token', 'access_token', 'job_token'];

/** Accepts `https://host`, `https://host/`, `https://host/api/v4/` … and returns `https://host/api/v4`. */
export function normaliseApiUrl(url: string): string {
  let u = url.trim().replace(/\/+$/, '');
  if (!/\/api\/v4$/.test(u)) u = `${u}${API_PATH}`;
  const parsed = new URL(u);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}

/** Appends a query to a URL: arrays as `key[]=a&key[]=b`, booleans as true/false, undefined skipped. */
export function appendQuery(url: URL, query: Query | undefined): void {
  if (!query) return;
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      const k = key.endsWith('[]') ? key : `${key}[]`;
      for (const v of value) url.searchParams.append(k, String(v));
    } else {
      url.searchParams.set(key, String(value));
    }
  }
}

interface Exchange {
  response: Response;
  text: string;
  bytes: number;
  ms: number;
}

export class GitLabClient {
  /** `https://host[/prefix]/api/v4`, no trailing slash. */
  readonly apiUrl: string;
  /** `https://host[/prefix]`. */
  readonly baseUrl: string;
  readonly metrics = new ClientMetrics();
  readonly pacer: Pacer;
  readonly limiter: EndpointLimiter;
  readonly #origin: string;
  readonly #apiPath: string;
  readonly #opts: ClientOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #fetch: typeof fetch;
  readonly #secrets: readonly string[];
  #serverTimeMs: number | null = null;

  constructor(opts: ClientOptions) {
    this.apiUrl = normaliseApiUrl(opts.apiUrl);
    this.baseUrl = this.apiUrl.slice(0, -API_PATH.length);
    const parsed = new URL(this.apiUrl);
    this.#origin = parsed.origin;
    this.#apiPath = parsed.pathname;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#secrets = [opts.token];
    this.pacer = new Pacer({
      concurrency: opts.concurrency,
      clock: this.#clock,
      onLongWait: (ms, remaining) =>
        opts.logger.info(`GitLab's rate limit is nearly spent (RateLimit-Remaining ${remaining}); waiting ${Math.ceil(ms / 1000)}s for its window to reset before the next request.`),
    });
    this.limiter = new EndpointLimiter(this.#clock, opts.endpointLimits, (route, ms) =>
      opts.logger.info(`${route} is at GitLab's limit for this endpoint; its requests wait ${Math.ceil(ms / 1000)}s (the other endpoints go on).`),
    );
  }

  /**
   * GitLab's clock by the `Date` header of the latest successful answer (2xx, body read as JSON;
   * second precision, so at most a second behind), or null when none carried one. A timestamp at
   * or before it is one that GitLab has already reached: anything updated from now on gets a
   * later updated_at. Only such answers count because error pages (a 502 or 503 from a proxy or
   * load balancer, an HTML login page) may come from a machine whose clock is not GitLab's. The
   * latest value is kept, not the highest ever seen: one answer stamped ahead of GitLab (a fast
   * node behind the load balancer) would otherwise stay the horizon for the whole run, and a
   * split point or bookmark after GitLab's real time skips the rows GitLab stamps in between.
   */
  get serverTimeMs(): number | null {
    return this.#serverTimeMs;
  }

  #observeServerDate(headers: Headers): void {
    const date = parseHttpDate(headers.get('date') ?? '');
    if (date !== null) this.#serverTimeMs = date;
  }

  /** GET a path relative to the API root (`/projects/42/merge_requests`), JSON body parsed. */
  get(path: string, query?: Query): Promise<GitLabResponse> {
    return this.#request('GET', this.urlFor(path, query));
  }

  /** GET an absolute URL (a Link `rel="next"`), re-based onto the configured API origin. */
  getUrl(url: string): Promise<GitLabResponse> {
    return this.#request('GET', this.rebase(url));
  }

  /**
   * POSTs a GraphQL query to `{baseUrl}/api/graphql`: its `data`, and the messages of its `errors`. GraphQL answers a
   * partial failure (one node it could not resolve) with both, and what `data` holds is good. Errors without data
   * raise GitLabResponseError.
   */
  async graphql(query: string, variables: Record<string, unknown>): Promise<{ data: unknown; errors: string[] }> {
    const url = new URL(`${this.baseUrl}/api/graphql`);
    const res = await this.#request('POST', url, JSON.stringify({ query, variables }));
    const body = res.body;
    if (typeof body !== 'object' || body === null) throw new GitLabResponseError(`GitLab's GraphQL API answered with a body that is not an object (POST ${url.pathname}).`);
    const { data, errors } = body as { data?: unknown; errors?: unknown };
    const messages = Array.isArray(errors)
      ? errors.map((e) => redact(typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : JSON.stringify(e), this.#secrets))
      : [];
    if (data === undefined || data === null) {
      if (messages.length > 0) throw new GitLabResponseError(`GitLab's GraphQL API answered with errors: ${messages.join('; ').slice(0, 300)}`);
      throw new GitLabResponseError(`GitLab's GraphQL API answered without data (POST ${url.pathname}).`);
    }
    return { data, errors: messages };
  }

  /** The URL for an API path and query. Tolerates a leading `/api/v4`, a missing `/`, or an absolute URL. */
  urlFor(path: string, query?: Query): URL {
    if (/^https?:\/\//i.test(path)) {
      const url = this.rebase(path);
      appendQuery(url, query);
      return url;
    }
    let p = path.startsWith('/') ? path : `/${path}`;
    if (p === API_PATH || p.startsWith(`${API_PATH}/`) || p.startsWith(`${API_PATH}?`)) p = p.slice(API_PATH.length);
    const url = new URL(`${this.apiUrl}${p}`);
    appendQuery(url, query);
    return this.#scrub(url);
  }

  /** Moves a URL GitLab built (Link headers use its configured host) onto the configured API origin and prefix. */
  rebase(url: string): URL {
    const u = new URL(url, `${this.apiUrl}/`);
    const i = u.pathname.indexOf(`${API_PATH}/`);
    const target =
      i >= 0 ? new URL(`${this.apiUrl}${u.pathname.slice(i + API_PATH.length)}${u.search}`) : u.pathname.endsWith(API_PATH) ? new URL(`${this.apiUrl}${u.search}`) : new URL(`${u.pathname}${u.search}`, this.#origin);
    return this.#scrub(target);
  }

  #scrub(url: URL): URL {
    for (const p of SECRET_PARAMS) url.searchParams.delete(p);
    url.hash = '';
    return url;
  }

  #headers(hasBody: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': this.#opts.userAgent };
    if (this.#opts.tokenType === 'bearer') h.authorization = `Bearer ${this.#opts.token}`;
    else h['private-token'] = this.#opts.token;
    if (hasBody) h['content-type'] = 'application/json';
    return h;
  }

  /** "GET /api/v4/projects?…" — used in errors; no origin, no token. */
  #target(method: string, url: URL): string {
    return redact(`${method} ${url.pathname}${url.search}`, this.#secrets);
  }

  async #send(method: string, url: URL, body: string | undefined): Promise<Exchange> {
    const started = this.#clock.now();
    // The timeout covers the whole exchange, body included (ky's own timeout stops at the headers).
    const signals = [this.#opts.signal, this.#opts.timeoutMs > 0 ? AbortSignal.timeout(Math.min(this.#opts.timeoutMs, 2_147_483_647)) : undefined].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const response = await ky(url, {
      method,
      headers: this.#headers(body !== undefined),
      ...(body === undefined ? {} : { body }),
      fetch: this.#fetch,
      retry: 0,
      throwHttpErrors: false,
      timeout: false,
      redirect: 'manual',
      ...(signal ? { signal } : {}),
    });
    const buf = new Uint8Array(await response.arrayBuffer());
    return { response, text: new TextDecoder().decode(buf), bytes: buf.byteLength, ms: this.#clock.now() - started };
  }

  async #request(method: 'GET' | 'POST', url: URL, body?: string): Promise<GitLabResponse> {
    const signal = this.#opts.signal;
    const maxRetries = Math.max(0, this.#opts.maxRetries);
    let current = url;
    let retries = 0;
    let badBodies = 0;
    let hops = 0;
    let windowWaited = false;
    for (;;) {
      const endpoint = endpointOf(current.pathname, this.#apiPath);
      const attemptStarted = this.#clock.now();
      let ex: Exchange;
      try {
        await this.limiter.take(`${method} ${endpoint}`, signal);
        ex = await this.pacer.run(() => this.#send(method, current, body), signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        const failure = classifyNetworkError(err);
        if (!failure) throw err;
        this.metrics.recordNetworkError(endpoint, this.#clock.now() - attemptStarted);
        if (retries < failure.retryLimit(maxRetries)) {
          const wait = backoffMs(retries, this.#random);
          this.#opts.logger.warn(`${method} ${endpoint} failed: ${failure.describe} (${failure.detail}); retry ${retries + 1}/${failure.retryLimit(maxRetries)} in ${wait}ms`);
          await this.#retryAfter(endpoint, wait);
          retries += 1;
          continue;
        }
        throw networkError(failure, this.#origin, this.#target(method, current), retries, err);
      }

      const { response, text } = ex;
      const status = response.status;
      this.pacer.observe(response.headers);
      this.metrics.recordResponse(endpoint, status, ex.bytes, ex.ms);
      this.#opts.logger.debug(`${method} ${endpoint} ${status} ${ex.ms}ms`);

      if (isRedirectStatus(status)) {
        current = this.#redirectTarget(method, current, response, hops);
        hops += 1;
        continue;
      }

      if (status >= 200 && status < 300) {
        const parsed = this.#parseBody(status, text);
        if (parsed.ok) {
          this.#observeServerDate(response.headers);
          return { status, headers: response.headers, body: parsed.value, url: current.toString() };
        }
        if (badBodies < BAD_BODY_RETRIES && retries < maxRetries) {
          const wait = backoffMs(retries, this.#random);
          this.#opts.logger.warn(`${method} ${endpoint} ${status} answered with a body that is not JSON; retry in ${wait}ms`);
          badBodies += 1;
          await this.#retryAfter(endpoint, wait);
          retries += 1;
          continue;
        }
        throw new GitLabResponseError(
          `GitLab answered ${status} to ${this.#target(method, current)} with a body that is not JSON (${ex.bytes} bytes${retries > 0 ? `, after ${retries} retries` : ''}). Check gitlab_base_url: a proxy or login page may be answering instead of GitLab's API.`,
        );
      }

      if (isRetryableStatus(status) && retries < maxRetries) {
        const now = this.#clock.now();
        if (status === 429) {
          const route = `${method} ${endpoint}`;
          const wait = rateLimitWait(response.headers, now, retries, this.#random);
          const windowMs = wait.reason === 'backoff' && !windowWaited ? this.limiter.windowFor(route) : null;
          this.metrics.recordRetry(endpoint);
          if (windowMs !== null) {
            windowWaited = true;
            // A header-less 429 on an endpoint with a limit of its own (GET /users/:id, 300 per 10 minutes): that
            // window is spent, so its requests wait it out (backing off would spend max_retries well within it);
            // the other endpoints go on. Once per request: a 429 after a whole window is not that limit, so backoff.
            const ms = Math.min(MAX_SERVER_WAIT_MS, windowMs);
            this.#opts.logger.warn(`${route} rate limited (429) by GitLab's limit for this endpoint; its requests wait ${Math.ceil(ms / 1000)}s for the window to pass, retry ${retries + 1}/${maxRetries}`);
            this.limiter.block(route, now + ms);
            retries += 1;
            continue;
          }
          this.#opts.logger.warn(`${method} ${endpoint} rate limited (429); waiting ${wait.ms}ms (${wait.reason}), retry ${retries + 1}/${maxRetries}`);
          this.pacer.pauseUntil(now + wait.ms);
        } else {
          const wait = serverErrorWait(response.headers, now, retries, this.#random);
          this.#opts.logger.warn(`${method} ${endpoint} answered ${status}; retry ${retries + 1}/${maxRetries} in ${wait.ms}ms`);
          await this.#retryAfter(endpoint, wait.ms);
        }
        retries += 1;
        continue;
      }

      throw httpError({ status, method, path: `${current.pathname}${current.search}`, bodyText: text, headers: response.headers, retries, secrets: this.#secrets });
    }
  }

  async #retryAfter(endpoint: string, ms: number): Promise<void> {
    this.metrics.recordRetry(endpoint);
    await this.#clock.sleep(ms, this.#opts.signal);
  }

  #parseBody(status: number, text: string): { ok: true; value: unknown } | { ok: false } {
    if (text.trim() === '') return status === 204 || status === 202 ? { ok: true, value: null } : { ok: false };
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      return { ok: false };
    }
  }

  /** Where a redirect leads, if the client may follow it; otherwise a GitLabHttpError. */
  #redirectTarget(method: string, current: URL, response: Response, hops: number): URL {
    const location = response.headers.get('location');
    const path = `${current.pathname}${current.search}`;
    const fail = (gitlabMessage: string, advice: string): GitLabHttpError =>
      new GitLabHttpError({ status: response.status, method, path: redact(path, this.#secrets), gitlabMessage, advice });
    if (!location) throw fail('a redirect without a Location header', 'Check gitlab_base_url.');
    let target: URL;
    try {
      target = new URL(location, current);
    } catch {
      throw fail('a redirect to an unreadable location', 'Check gitlab_base_url.');
    }
    if (target.origin !== this.#origin) {
      throw fail(
        `a redirect to another origin (${target.origin})`,
        `The tap follows redirects only within ${this.#origin}, so the token is never sent elsewhere; if GitLab lives at ${target.origin}, set gitlab_base_url to it.`,
      );
    }
    if (method !== 'GET') throw fail(`a redirect of a ${method} request`, 'Check gitlab_base_url.');
    if (hops >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`, 'Check gitlab_base_url and any proxy in front of GitLab.');
    // GitLab's 301 for a moved project may drop the query; keep ours when the target has none.
    if (target.search === '' && current.search !== '') target.search = current.search;
    return this.#scrub(target);
  }
}
