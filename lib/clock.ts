/**
 * Time, injectable. Every wait in the tap goes through a Clock so tests can run without real
 * waiting and assert the exact delays that were asked for.
 */

export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason if it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** setTimeout's longest delay: a longer one fires at once, with a TimeoutOverflowWarning on stderr. Sleeps end there. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: Date.now() and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface FakeClock extends Clock {
  /** Every delay asked of sleep(), in order. */
  readonly sleeps: number[];
  /** Moves the time forward without recording a sleep. */
  advance(ms: number): void;
}

/** A clock for tests: sleep() records the delay, advances now() by it and resolves at once. */
export function fakeClock(startMs = Date.UTC(2024, 0, 1)): FakeClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw abortReason(signal);
      sleeps.push(ms);
      now += Math.max(0, ms);
      await Promise.resolve();
    },
  };
}
