// @ts-check
/** Deterministic pseudo-random helpers (mulberry32) for the GitLab simulator. */

/**
 * @typedef {object} Rng
 * @property {() => number} next float in [0, 1)
 * @property {(min: number, max: number) => number} int integer in [min, max]
 * @property {(p: number) => boolean} chance true with probability p
 * @property {<T>(items: readonly T[]) => T} pick one element (items must not be empty)
 * @property {<T>(items: readonly T[], n: number) => T[]} sample up to n distinct elements
 */

/**
 * mulberry32: a tiny, fast, seedable generator.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wraps mulberry32 with convenience helpers.
 * @param {number} seed
 * @returns {Rng}
 */
export function createRng(seed) {
  const next = mulberry32(seed);
  /** @type {Rng} */
  const rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => /** @type {any} */ (items[Math.floor(next() * items.length)]),
    sample: (items, n) => {
      const want = Math.min(n, items.length);
      /** @type {Set<number>} */
      const seen = new Set();
      const out = [];
      while (out.length < want) {
        const i = Math.floor(next() * items.length);
        if (seen.has(i)) continue;
        seen.add(i);
        out.push(/** @type {any} */ (items[i]));
      }
      return out;
    },
  };
  return rng;
}
