/**
 * Loads the bundled CLI (dist/tap-gitlab.cjs, one CommonJS file) with V8's code cache
 * (dist/tap-gitlab.cache), which `npm run build` writes after a warm-up run. With the cache V8
 * skips parsing and compiling the ~800 KB bundle and the functions the warm-up ran, which is most of
 * an hourly incremental run's start-up. A cache V8 refuses (another Node or V8 version, other V8
 * flags, a rebuilt bundle) or a missing one only costs that time back: the bundle is compiled as
 * usual and runs the same.
 *
 * The cache file is V8's data after its own SHA-256: V8's release builds do not check the data they
 * are given, so a cache with flipped bits of the right length (a bad copy, disk corruption) would end
 * the process in a V8 fatal error; one that does not match its digest is never handed to V8.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Script } from 'node:vm';

/** What V8 did with the cache: used it, refused it, or there was none. */
export type CacheUse = 'accepted' | 'rejected' | 'none';

export interface LoadedBundle<T> {
  exports: T;
  cache: CacheUse;
  /** V8's cache for this bundle as compiled so far (functions run since loading included). */
  createCache: () => Buffer;
}

const DIGEST_BYTES = 32;
const digestOf = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** The cache's data; 'corrupt' when it does not match its digest; undefined when there is no file. */
function readCache(path: string): Buffer | 'corrupt' | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  const data = file.subarray(DIGEST_BYTES);
  return file.length > DIGEST_BYTES && digestOf(data).equals(file.subarray(0, DIGEST_BYTES)) ? data : 'corrupt';
}

/** Compiles and runs a CommonJS bundle, with `cachePath`'s code cache when V8 accepts it (null: none). */
export function loadBundle<T>(path: string, cachePath: string | null): LoadedBundle<T> {
  const bundlePath = resolve(path);
  let source: string;
  try {
    source = readFileSync(bundlePath, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${bundlePath}: build tap-gitlab first (npm run build).`, { cause: err });
  }
  const read = cachePath === null ? undefined : readCache(cachePath);
  const cachedData = read === 'corrupt' ? undefined : read;
  // The wrapper Node itself puts around a CommonJS module, on the bundle's first line (stack traces keep their lines).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, ...(cachedData ? { cachedData } : {}) });
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return {
    exports: module.exports as T,
    cache: read === 'corrupt' ? 'rejected' : cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted',
    createCache: () => script.createCachedData(),
  };
}

/** Loads the bundle, runs `warmUp` on its exports, then writes V8's code cache for it to `cachePath`. */
export async function writeCodeCache<T>(bundlePath: string, cachePath: string, warmUp: (exports: T) => Promise<void>): Promise<number> {
  const loaded = loadBundle<T>(bundlePath, null);
  await warmUp(loaded.exports);
  const data = loaded.createCache();
  writeFileSync(cachePath, Buffer.concat([digestOf(data), data]));
  return data.byteLength + DIGEST_BYTES;
}
