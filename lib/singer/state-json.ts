/**
 * JSON text of STATE values that reuses the text of parts unchanged since the last STATE.
 *
 * A STATE follows every page of work and carries every project's bookmark, so with P projects a
 * sync serialises O(P) partitions per page although only one changed. Bookmark partitions and the
 * discovery cache are frozen when they are made (see state.ts, discovery.ts); a frozen object whose
 * members are all frozen too cannot change, so its text is kept (in a WeakMap, gone with the object)
 * and used again. Anything not frozen is serialised afresh every time. The text is exactly what
 * JSON.stringify gives.
 */

/** Returns a serialiser with its own cache; one per writer. */
export function createStateSerializer(): (value: unknown) => string {
  const cache = new WeakMap<object, string>();

  /** [text, immutable]: text of `v` (undefined when JSON.stringify would drop it) and whether it can never change. */
  const write = (v: unknown): [string | undefined, boolean] => {
    if (v === null || typeof v !== 'object') {
      return [JSON.stringify(v) as string | undefined, true];
    }
    const known = cache.get(v);
    if (known !== undefined) return [known, true];
    if ('toJSON' in v && typeof v.toJSON === 'function') return [JSON.stringify(v), false];
    let text: string;
    let immutable = Object.isFrozen(v);
    if (Array.isArray(v)) {
      const items: string[] = [];
      for (const item of v as unknown[]) {
        const [t, frozen] = write(item);
        immutable &&= frozen;
        items.push(t ?? 'null');
      }
      text = `[${items.join(',')}]`;
    } else {
      const members: string[] = [];
      for (const key of Object.keys(v)) {
        const [t, frozen] = write((v as Record<string, unknown>)[key]);
        immutable &&= frozen;
        if (t !== undefined) members.push(`${JSON.stringify(key)}:${t}`);
      }
      text = `{${members.join(',')}}`;
    }
    if (immutable) cache.set(v, text);
    return [text, immutable];
  };

  return (value) => write(value)[0] ?? 'null';
}
