/**
 * GitLab's application-level limits on single endpoints. They send no RateLimit-* headers, so the
 * client keeps its own sliding window per endpoint and waits (through the injected clock) before
 * a request that would exceed it. Defaults are gitlab.com's (and self-managed defaults):
 * `GET /users/:id` 300 per 10 minutes, `GET /projects/:id` 400 per minute, `GET /projects`
 * 2,000 per 10 minutes.
 */
import type { Clock } from '../clock.js';
import { LONG_WAIT_MS } from './pacer.js';

export interface EndpointLimit {
  /** "GET /users/:id" — method and endpoint as metrics name them. */
  route: string;
  max: number;
  windowMs: number;
}

export const GITLAB_ENDPOINT_LIMITS: readonly EndpointLimit[] = [
  { route: 'GET /users/:id', max: 300, windowMs: 600_000 },
  { route: 'GET /projects/:id', max: 400, windowMs: 60_000 },
  { route: 'GET /projects', max: 2_000, windowMs: 600_000 },
];

export class EndpointLimiter {
  readonly #limits: Map<string, EndpointLimit>;
  readonly #starts = new Map<string, number[]>();
  readonly #blockedUntil = new Map<string, number>();
  readonly #clock: Clock;
  /** Total time waited because of these limits, for the run summary. */
  waitedMs = 0;

  readonly #onLongWait: ((route: string, ms: number) => void) | undefined;

  /** `onLongWait` is told of every wait of LONG_WAIT_MS or more (the client logs it): a run never goes quiet unsaid. */
  constructor(clock: Clock, limits: readonly EndpointLimit[] = GITLAB_ENDPOINT_LIMITS, onLongWait?: (route: string, ms: number) => void) {
    this.#clock = clock;
    this.#limits = new Map(limits.map((l) => [l.route, l]));
    this.#onLongWait = onLongWait;
  }

  #sleep(route: string, ms: number, signal?: AbortSignal): Promise<void> {
    this.waitedMs += ms;
    if (ms >= LONG_WAIT_MS) this.#onLongWait?.(route, ms);
    return this.#clock.sleep(ms, signal);
  }

  /** The window of `route`'s limit, or null when it has none. */
  windowFor(route: string): number | null {
    return this.#limits.get(route)?.windowMs ?? null;
  }

  /**
   * Holds `route`'s requests until `untilMs`: GitLab answered 429 without a header, so its count for the window
   * is spent (by an earlier run, or another tool of the same user) although this process's count is not.
   */
  block(route: string, untilMs: number): void {
    this.#blockedUntil.set(route, Math.max(this.#blockedUntil.get(route) ?? 0, untilMs));
  }

  /** Waits until one more request on `route` stays within its window, then records it. */
  async take(route: string, signal?: AbortSignal): Promise<void> {
    const limit = this.#limits.get(route);
    if (!limit) return;
    const starts = this.#starts.get(route) ?? [];
    this.#starts.set(route, starts);
    for (;;) {
      const now = this.#clock.now();
      const blocked = (this.#blockedUntil.get(route) ?? 0) - now;
      if (blocked > 0) {
        await this.#sleep(route, blocked, signal);
        continue;
      }
      while (starts.length > 0 && (starts[0] ?? 0) <= now - limit.windowMs) starts.shift();
      if (starts.length < limit.max) {
        starts.push(now);
        return;
      }
      await this.#sleep(route, (starts[0] ?? now) + limit.windowMs - now, signal);
    }
  }
}
