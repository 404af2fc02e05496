/**
 * Which answers are retried and how long to wait before the next attempt.
 *
 * - Retried statuses: 408, 429, 500, 502, 503, 504 and Cloudflare's 520-530. Every other 4xx is final.
 * - 429: `Retry-After` (seconds or HTTP date), else `RateLimit-Reset` / `RateLimit-ResetTime`, else
 *   exponential backoff (GitLab's application limits answer 429 without any header).
 * - Backoff is "equal jitter": half of the capped exponential step is fixed, the other half random.
 *   Delays therefore always grow with the attempt number (until the cap) while concurrent clients
 *   still spread out.
 * - Network errors: resets, timeouts and temporary DNS failures (EAI_AGAIN) use the full retry budget.
 *   A name that does not resolve (ENOTFOUND) or a refused connection (ECONNREFUSED) rarely heals within
 *   a run, usually meaning a wrong gitlab_base_url, so they get at most 2 retries: enough to ride out a
 *   restart of GitLab or a DNS blip, short enough to fail fast on a typo. TLS errors are never retried.
 */

/** Base and cap of the backoff for 5xx, 408 and network errors. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 60_000;
/** Base of the backoff for a 429 that says nothing about when to come back. */
export const RATE_LIMIT_BACKOFF_BASE_MS = 5_000;
/** No single wait asked by GitLab is honoured beyond this (a broken header must not park the tap for hours). */
export const MAX_SERVER_WAIT_MS = 15 * 60_000;
/** How often a 2xx whose body is not JSON (truncated, proxy page) is asked again. */
export const BAD_BODY_RETRIES = 2;
/** Retries granted to DNS "not found" and "connection refused" errors. */
export const UNREACHABLE_RETRIES = 2;

/** True for statuses worth asking again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504 || (status >= 520 && status <= 530);
}

/** True for statuses that are redirects the client may follow. */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Capped exponential backoff with equal jitter; `attempt` counts from 0. */
export function backoffMs(attempt: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (step / 2) * r);
}

function clampWait(ms: number): number {
  return Math.min(MAX_SERVER_WAIT_MS, Math.max(0, Math.ceil(ms)));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/**
 * The three HTTP-date forms a recipient must take (RFC 9110 §5.6.7), at the start of the text (a header set twice
 * is joined with ", "), with the slack servers are known for: a one-digit day, `UTC` or `+0000` for GMT.
 * IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`.
 */
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC|\+0000)\s*(?:,|$)/;
const RFC_850 = /^[A-Za-z]{6,9}, (\d{1,2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT\s*(?:,|$)/;
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\s*(?:,|$)/;
/** Delta seconds, maybe followed by a repeat (`1, 1`: a proxy and GitLab both set the header, Headers.get joins them). */
const DELTA_SECONDS = /^(\d+(?:\.\d+)?)\s*(?:,|$)/;

/** An HTTP-date as epoch ms, or null: V8's own Date.parse reads "-1", "1, 1" and "abc 1" as dates in 2001. */
export function parseHttpDate(text: string): number | null {
  const at = (year: number, month: string, day: string, h: string, mi: string, sec: string): number | null => {
    const m = MONTHS.indexOf(month.toLowerCase());
    const d = Number(day);
    if (m < 0 || d < 1 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
    const ms = Date.UTC(year, m, d, Number(h), Number(mi), Number(sec));
    return new Date(ms).getUTCDate() === d ? ms : null; // 31 Feb does not roll over into March
  };
  const raw = text.trim();
  let g = IMF_FIXDATE.exec(raw);
  if (g) return at(Number(g[3]), g[2] as string, g[1] as string, g[4] as string, g[5] as string, g[6] as string);
  g = RFC_850.exec(raw);
  if (g) {
    // A two-digit year more than 50 years ahead is in the past century (RFC 9110).
    const yy = Number(g[3]);
    const year = 2000 + yy > new Date().getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    return at(year, g[2] as string, g[1] as string, g[4] as string, g[5] as string, g[6] as string);
  }
  g = ASCTIME.exec(raw);
  if (g) return at(Number(g[6]), g[1] as string, g[2] as string, g[3] as string, g[4] as string, g[5] as string);
  return null;
}

/**
 * Where the answer's own clock stood, from its `Date` header: an instant the server wrote (Retry-After as a date,
 * RateLimit-ResetTime) is measured against it, not against this machine's clock, which may be minutes off.
 */
function serverNow(headers: Headers, nowMs: number): number {
  return parseHttpDate(headers.get('date') ?? '') ?? nowMs;
}

/**
 * `Retry-After` as a delay in ms (delta seconds or an HTTP date, measured from the answer's `Date`), or null when
 * absent, unreadable, or no wait at all: a date already past, or `-1` (V8's Date.parse reads "-1", "1, 1" and "abc 1"
 * as dates in 2001), would otherwise retry at once and spend max_retries within milliseconds; the backoff applies then.
 */
export function retryAfterMs(headers: Headers, nowMs: number): number | null {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return null;
  const delta = DELTA_SECONDS.exec(raw);
  if (delta) {
    const ms = Number(delta[1]) * 1000;
    return ms > 0 ? clampWait(ms) : null;
  }
  const at = parseHttpDate(raw);
  if (at === null) return null;
  const ms = at - serverNow(headers, nowMs);
  return ms > 0 ? clampWait(ms) : null;
}

/**
 * `RateLimit-Reset` as an epoch-ms instant on this machine's clock. GitLab sends Unix seconds; a value of 1e12 or
 * more is read as Unix milliseconds, a small one as delta seconds (the IETF draft's meaning, used by some proxies).
 * Falls back to `RateLimit-ResetTime`. An absolute instant is GitLab's clock, so it is shifted by the difference
 * between the answer's `Date` and this machine's clock.
 */
export function rateLimitResetAt(headers: Headers, nowMs: number): number | null {
  const skew = nowMs - serverNow(headers, nowMs);
  const raw = headers.get('ratelimit-reset')?.trim();
  if (raw && /^\d+(\.\d+)?$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1e12) return n + skew;
    return n >= 1e9 ? n * 1000 + skew : nowMs + n * 1000;
  }
  const at = parseHttpDate(headers.get('ratelimit-resettime') ?? '');
  return at === null ? null : at + skew;
}

export interface Wait {
  ms: number;
  reason: 'retry-after' | 'ratelimit-reset' | 'backoff';
}

/** How long to wait after a 429: Retry-After, else RateLimit-Reset, else backoff. */
export function rateLimitWait(headers: Headers, nowMs: number, attempt: number, random: () => number): Wait {
  const after = retryAfterMs(headers, nowMs);
  if (after !== null) return { ms: after, reason: 'retry-after' };
  const reset = rateLimitResetAt(headers, nowMs);
  if (reset !== null && reset > nowMs) return { ms: clampWait(reset - nowMs), reason: 'ratelimit-reset' };
  return { ms: backoffMs(attempt, random, RATE_LIMIT_BACKOFF_BASE_MS), reason: 'backoff' };
}

/** How long to wait after a retryable 5xx/408: the server's Retry-After if any, else backoff. */
export function serverErrorWait(headers: Headers, nowMs: number, attempt: number, random: () => number): Wait {
  const after = retryAfterMs(headers, nowMs);
  if (after !== null) return { ms: after, reason: 'retry-after' };
  return { ms: backoffMs(attempt, random), reason: 'backoff' };
}
