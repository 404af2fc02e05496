/**
 * One project's merge request scan as consecutive `updated_at` ranges that can be read at the same
 * time. A scan is a seek (each page's cursor comes from the one before), so a large project is a
 * chain of round trips; splitting what is left of a range at a timestamp lets an idle worker read
 * the later half while the first half goes on.
 *
 * Ranges are ordered and touch: range i reads `cursor <= updated_at <= until`, range i+1 starts at
 * range i's `until`. Both bounds are inclusive (GitLab's `updated_after`/`updated_before` are, and a
 * timestamp shown in milliseconds may hide microseconds), so a row exactly at a split point can be
 * read by both ranges: `claim` lets only the first reader emit it, and until that reader has written
 * it (`commit`) no bookmark counts it as emitted.
 *
 * The bookmark is what a next run may resume from: the furthest point before which every row of
 * the project has been emitted — through every finished range and into the first unfinished one,
 * never past it. Rows the later ranges emitted are read again by a resumed run (duplicates, which
 * targets upsert), never lost.
 */

export interface ScanRange {
  /** Every row of this range before `cursor` is emitted, and those at it whose ids are in `seen`; null: nothing read yet from the project's start. */
  cursor: string | null;
  seen: readonly number[];
  /** Inclusive upper bound (`updated_before`); null for the last range. Lowered when the range is split. */
  until: string | null;
  /** Rows still ahead by GitLab's X-Total (null: unknown). */
  remaining: number | null;
  /** True once a page of this range has been read (before that, `remaining` is a guess). */
  read: boolean;
  done: boolean;
}

export interface Bookmark {
  cursor: string;
  ids: readonly number[];
}

const ms = (ts: string | null): number => (ts === null ? Number.NEGATIVE_INFINITY : Date.parse(ts));

export class ProjectScan {
  readonly #ranges: ScanRange[];
  readonly #start: { cursor: string | null; seen: readonly number[] };
  /** Split points (ms) and the ids already emitted exactly at each. */
  readonly #boundaries = new Map<number, Set<number>>();
  /** Rows at split points claimed by a range whose page is not written yet. */
  readonly #unwritten = new Set<number>();

  constructor(cursor: string | null, seen: readonly number[]) {
    this.#start = { cursor, seen };
    this.#ranges = [{ cursor, seen, until: null, remaining: null, read: false, done: false }];
  }

  /** The ranges in order (the first is the project's start). */
  get ranges(): readonly ScanRange[] {
    return this.#ranges;
  }

  get done(): boolean {
    return this.#ranges.every((r) => r.done);
  }

  /** Records a page that `range` has read and emitted. */
  advance(range: ScanRange, cursor: string | null, seen: readonly number[], remaining: number | null): void {
    if (cursor !== null) {
      range.cursor = cursor;
      range.seen = seen;
    }
    range.remaining = remaining;
    range.read = true;
  }

  /** Marks `range` read to its end; true only for the call that completes the whole scan (ranges finish concurrently). */
  finish(range: ScanRange): boolean {
    if (range.done) return false;
    range.done = true;
    range.remaining = 0;
    return this.done;
  }

  /**
   * Splits what is left of `range` at the middle of its span — from its cursor to its `until`, or,
   * for the last range, to `horizonMs` — and returns the new later range, or null when the span is
   * too narrow or no page of the range has been read yet (its size is not known).
   *
   * `horizonMs` must be a time GitLab's clock has already reached (its `Date` header), never the
   * tap's clock: a finished range moves the bookmark to its split point, and a row updated after
   * that gets an updated_at at or after GitLab's clock, so it must land past the point. Null: the
   * last range is not split.
   */
  split(range: ScanRange, horizonMs: number | null): ScanRange | null {
    if (range.done || !range.read || range.cursor === null) return null;
    if (range.until === null && horizonMs === null) return null;
    const from = ms(range.cursor);
    const to = range.until === null ? (horizonMs as number) : ms(range.until);
    const at = Math.floor(from + (to - from) / 2);
    if (!(at > from && at < to)) return null;
    const point = new Date(at).toISOString();
    const i = this.#ranges.indexOf(range);
    if (i < 0) return null;
    const half = range.remaining === null ? null : Math.ceil(range.remaining / 2);
    const later: ScanRange = { cursor: point, seen: [], until: range.until, remaining: half, read: false, done: false };
    range.until = point;
    range.remaining = half;
    this.#ranges.splice(i + 1, 0, later);
    this.#boundaries.set(at, new Set());
    return later;
  }

  /**
   * Whether the row may be emitted: false only for a row at a split point that the range on its
   * other side claimed already. A claimed row counts as emitted for bookmarks only once `commit`ed:
   * the range on the other side drops it but may well finish (and print a STATE) first.
   */
  claim(id: number, updatedAtMs: number): boolean {
    const seen = this.#boundaries.get(updatedAtMs);
    if (seen === undefined) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    this.#unwritten.add(id);
    return true;
  }

  /** The claimed rows of a page are written: bookmarks may count them from now on. */
  commit(ids: Iterable<number>): void {
    for (const id of ids) this.#unwritten.delete(id);
  }

  /** True when some row may sit on a split point (claim needs to be asked). */
  get hasBoundaries(): boolean {
    return this.#boundaries.size > 0;
  }

  /**
   * Where a next run may resume from: null while no page has moved it from where the scan started
   * (the stored bookmark stays as it is; a start_date alone is never stored, so a start_date in the
   * future by mistake does not become a bookmark that hides everything before it once corrected).
   */
  bookmark(): Bookmark | null {
    let best = this.#start;
    for (const r of this.#ranges) {
      const a = ms(best.cursor);
      const b = ms(r.cursor);
      if (b > a) best = { cursor: r.cursor, seen: r.seen };
      else if (b === a && r.seen.length > 0) best = { cursor: best.cursor, seen: [...new Set([...best.seen, ...r.seen])] };
      if (!r.done) break;
    }
    if (best.cursor === null || best === this.#start) return null;
    const ids = this.#unwritten.size === 0 ? best.seen : best.seen.filter((id) => !this.#unwritten.has(id));
    return { cursor: best.cursor, ids };
  }
}
