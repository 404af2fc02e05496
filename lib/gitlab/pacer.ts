/**
 * The pacer: one per client (the tap makes one client per process), shared by every request.
 * - a concurrency gate: at most `concurrency` requests in flight, FIFO;
 * - a global pause: after a 429 every request waits until the time GitLab asked for;
 * - pacing: when `RateLimit-Remaining` runs low (below 5% of `RateLimit-Limit`, or below 10),
 *   request starts are spread evenly over the time left until `RateLimit-Reset`; at 0 remaining
 *   requests wait for the reset.
 * All waits go through the injected Clock.
 */
import type { Clock } from '../clock.js';
import { MAX_SERVER_WAIT_MS, rateLimitResetAt } from './retry-policy.js';

export interface PacerOptions {
  concurrency: number;
  clock: Clock;
  /** Remaining below this share of the limit counts as low. Default 0.05. */
  lowFraction?: number;
  /** Remaining below this count always counts as low. Default 10. */
  lowMinimum?: number;
  /** Told of every pacing wait of `LONG_WAIT_MS` or more (the client logs it): a run never goes quiet for long unsaid. */
  onLongWait?: (ms: number, remaining: number) => void;
}

/** Pacing waits from this long on are reported. */
export const LONG_WAIT_MS = 5_000;

interface Budget {
  remaining: number;
  limit: number | null;
  resetAt: number;
}

export class Pacer {
  readonly concurrency: number;
  readonly #clock: Clock;
  readonly #lowFraction: number;
  readonly #lowMinimum: number;
  readonly #onLongWait: ((ms: number, remaining: number) => void) | undefined;
  #active = 0;
  #queue: Array<() => void> = [];
  #pausedUntil = 0;
  #lastStartAt: number | null = null;
  #budget: Budget | null = null;
  /** Highest number of requests seen in flight at once. */
  peakInFlight = 0;

  constructor(opts: PacerOptions) {
    this.concurrency = Math.max(1, Math.floor(opts.concurrency));
    this.#clock = opts.clock;
    this.#lowFraction = opts.lowFraction ?? 0.05;
    this.#lowMinimum = opts.lowMinimum ?? 10;
    this.#onLongWait = opts.onLongWait;
  }

  get inFlight(): number {
    return this.#active;
  }

  /** Runs `fn` once a slot is free and the rate budget allows a new request. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      await this.#waitTurn(signal);
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** Learns the rate budget from a response's RateLimit-* headers. */
  observe(headers: Headers): void {
    const remainingRaw = headers.get('ratelimit-remaining');
    if (remainingRaw === null || !/^\s*-?\d+\s*$/.test(remainingRaw)) return;
    const now = this.#clock.now();
    const resetAt = rateLimitResetAt(headers, now);
    // GitLab's windows are a minute long; a reset further off than any wait the tap honours is a broken header (a
    // proxy's, milliseconds read as seconds), and pacing to it would park the run for hours without a word.
    if (resetAt === null || resetAt <= now || resetAt - now > MAX_SERVER_WAIT_MS) {
      this.#budget = null;
      return;
    }
    const limitRaw = headers.get('ratelimit-limit');
    const limit = limitRaw !== null && /^\s*\d+\s*$/.test(limitRaw) ? Number(limitRaw) : null;
    this.#budget = { remaining: Number(remainingRaw), limit, resetAt };
  }

  /** Holds every new request until `atMs` (epoch ms). Never shortens an existing pause. */
  pauseUntil(atMs: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, atMs);
  }

  /** When the next request may start, given the budget and the previous start. */
  #nextStart(now: number): number {
    const b = this.#budget;
    if (!b || b.resetAt <= now) return now;
    const low = Math.max(this.#lowMinimum, b.limit === null ? 0 : b.limit * this.#lowFraction);
    if (b.remaining >= low) return now;
    if (b.remaining <= 0) return b.resetAt;
    const interval = Math.ceil((b.resetAt - now) / b.remaining);
    return this.#lastStartAt === null ? now : Math.max(now, this.#lastStartAt + interval);
  }

  async #waitTurn(signal?: AbortSignal): Promise<void> {
    let reserved = false;
    for (;;) {
      const now = this.#clock.now();
      if (this.#pausedUntil > now) {
        await this.#clock.sleep(this.#pausedUntil - now, signal);
        continue;
      }
      if (!reserved) {
        reserved = true;
        const startAt = this.#nextStart(now);
        this.#lastStartAt = startAt;
        // Each request started spends one unit of the budget until a response reports the real figure.
        if (this.#budget) this.#budget.remaining -= 1;
        if (startAt > now) {
          if (startAt - now >= LONG_WAIT_MS) this.#onLongWait?.(startAt - now, Math.max(0, this.#budget?.remaining ?? 0));
          await this.#clock.sleep(startAt - now, signal);
          continue;
        }
      }
      return;
    }
  }

  async #acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (this.#active < this.concurrency) {
      this.#take();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#take();
        resolve();
      };
      const onAbort = (): void => {
        this.#queue = this.#queue.filter((g) => g !== grant);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(grant);
    });
  }

  #take(): void {
    this.#active += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.#active);
  }

  #release(): void {
    this.#active -= 1;
    const next = this.#queue.shift();
    if (next) next();
  }
}
