/**
 * Bounded concurrency: `limit` workers each take their next job from `take()` until it returns
 * null, or until a job has failed; rejects with the first error once all started jobs settle.
 * `take()` is asked afresh for every job, so jobs added while others run are picked up; it may
 * return a promise, to wait for work that a running job may still make.
 */
export async function runWorkers<T>(limit: number, take: () => T | null | Promise<T | null>, work: (job: T) => Promise<void>): Promise<void> {
  let firstError: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (firstError === null) {
      const job = await take();
      if (job === null || firstError !== null) return;
      try {
        await work(job);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
}
