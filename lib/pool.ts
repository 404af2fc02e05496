/** Runs `work` over `items` with at most `limit` in flight; rejects with the first error after all started work settles. */
export async function runPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === null) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
}
