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

/** `Retry-After` as a delay in ms from `nowMs` (delta seconds or HTTP date), or null if absent/unreadable. */
export function retryAfterMs(headers: Headers, nowMs: number): number | null {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return null;
  if (/^\d+(\.\d+)?$/.test(raw)) return clampWait(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : clampWait(at - nowMs);
}

/**
 * `RateLimit-Reset` as an epoch-ms instant. GitLab sends Unix seconds; a small number is read as
 * delta seconds (the IETF draft's meaning, used by some proxies). Falls back to `RateLimit-ResetTime`.
 */
export function rateLimitResetAt(headers: Headers, nowMs: number): number | null {
  const raw = headers.get('ratelimit-reset')?.trim();
  if (raw && /^\d+(\.\d+)?$/.test(raw)) {
    const n = Number(raw);
    return n >= 1e9 ? n * 1000 : nowMs + n * 1000;
  }
  const time = headers.get('ratelimit-resettime')?.trim();
  if (time) {
    const at = Date.parse(time);
    if (!Number.isNaN(at)) return at;
  }
  return null;
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
