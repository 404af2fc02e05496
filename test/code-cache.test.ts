import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, writeCodeCache } from '../lib/code-cache.js';

interface Bundle {
  hello: (name: string) => string;
  where: () => string;
  builtin: () => string;
}

function tempBundle(t: Test, source = ''): { dir: string; bundle: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tap-gitlab-code-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'bundle.cjs');
  writeFileSync(
    bundle,
    source ||
      [
        '"use strict";',
        'exports.hello = (name) => `hello ${name}`;',
        'exports.where = () => __filename;',
        'exports.builtin = () => require("node:path").basename(__dirname);',
      ].join('\n'),
  );
  return { dir, bundle, cache: join(dir, 'bundle.cache') };
}

/**
 * The same bundle under another name. V8 keeps what this process compiled, keyed by source and
 * name: loading the very file again would be served from that and never read the cache file.
 */
function copyOf(bundle: string, name: string): string {
  const copy = join(bundle, '..', name);
  copyFileSync(bundle, copy);
  return copy;
}

t.test('a bundle without a cache file compiles as usual and runs with CommonJS require, __filename and __dirname', async (t) => {
  const { dir, bundle, cache } = tempBundle(t);
  const loaded = loadBundle<Bundle>(bundle, cache);
  t.equal(loaded.cache, 'none');
  t.equal(loaded.exports.hello('gitlab'), 'hello gitlab');
  t.equal(loaded.exports.where(), bundle);
  t.equal(loaded.exports.builtin(), dir.split('/').pop());
});

t.test('the cache written after a warm-up is accepted by the next load, which runs the same', async (t) => {
  const { bundle, cache } = tempBundle(t);
  const seen: string[] = [];
  const bytes = await writeCodeCache<Bundle>(bundle, cache, async (b) => {
    seen.push(b.hello('warm-up'));
  });
  t.same(seen, ['hello warm-up'], 'the warm-up ran on the bundle\'s exports');
  t.equal(bytes, readFileSync(cache).byteLength);
  t.ok(bytes > 0);
  const loaded = loadBundle<Bundle>(copyOf(bundle, 'copy.cjs'), cache);
  t.equal(loaded.cache, 'accepted');
  t.equal(loaded.exports.hello('again'), 'hello again');
});

t.test('a cache V8 refuses (a rebuilt bundle, garbage) is only time lost: the bundle still runs', async (t) => {
  const { bundle, cache } = tempBundle(t);
  await writeCodeCache<Bundle>(bundle, cache, async () => undefined);
  writeFileSync(bundle, `${readFileSync(bundle, 'utf8')}\nexports.added = 1;`);
  const rebuilt = loadBundle<Bundle & { added: number }>(copyOf(bundle, 'rebuilt.cjs'), cache);
  t.equal(rebuilt.cache, 'rejected');
  t.equal(rebuilt.exports.added, 1);
  writeFileSync(cache, 'not a code cache');
  const garbage = loadBundle<Bundle>(copyOf(bundle, 'garbage.cjs'), cache);
  t.equal(garbage.cache, 'rejected');
  t.equal(garbage.exports.hello('x'), 'hello x');
});

t.test('writing a cache ignores an old cache file', async (t) => {
  const { bundle, cache } = tempBundle(t);
  writeFileSync(cache, 'stale');
  await writeCodeCache<Bundle>(bundle, cache, async () => undefined);
  t.equal(loadBundle<Bundle>(copyOf(bundle, 'copy.cjs'), cache).cache, 'accepted');
});

t.test('a missing bundle is an error that says to build first', async (t) => {
  t.throws(() => loadBundle(join(tmpdir(), 'no-such-tap-gitlab-bundle.cjs'), null), { message: /npm run build/ });
});

t.test('a line number in a bundle\'s stack trace is the line in the file', async (t) => {
  const { bundle } = tempBundle(t, ['"use strict";', '', 'exports.fail = () => {', '  throw new Error("boom");', '};'].join('\n'));
  const loaded = loadBundle<{ fail: () => never }>(bundle, null);
  try {
    loaded.exports.fail();
    t.fail('should throw');
  } catch (err) {
    t.match((err as Error).stack, new RegExp(`${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:`));
  }
});

// The built tap: `npm run build` leaves a cache this Node accepts (a plain node, as bin/tap-gitlab runs).
const dist = join(import.meta.dirname, '..', 'dist');
const built = existsSync(join(dist, 'tap-gitlab.cjs')) && existsSync(join(dist, 'code-cache.js'));
t.test('the build writes a code cache that node accepts for the bundle bin/tap-gitlab runs', { skip: built ? false : 'dist is not built: run `npm run build` first' }, async (t) => {
  const script = `import('./code-cache.js').then((m) => { const l = m.loadBundle('./tap-gitlab.cjs', './tap-gitlab.cache'); process.stdout.write(l.cache + ' ' + typeof l.exports.main); })`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: dist, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  t.equal(out, 'accepted function');
});

t.test('a cache with flipped bits but the right length is refused before V8 sees it, so the tap still runs', async (t) => {
  const dist = new URL('../dist/', import.meta.url);
  if (!existsSync(new URL('tap-gitlab.cache', dist))) {
    t.pass('no build here: run npm run build', { skip: true });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tap-gitlab-corrupt-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'tap-gitlab.cjs');
  const cache = join(dir, 'tap-gitlab.cache');
  copyFileSync(new URL('tap-gitlab.cjs', dist), bundle);
  const data = readFileSync(new URL('tap-gitlab.cache', dist));
  for (let i = 64; i < data.length; i += 997) data[i] = (data[i] ?? 0) ^ 0xff; // a bad copy: same length, bits flipped
  writeFileSync(cache, data);
  const loader = new URL('code-cache.js', dist).href;
  const script = `import { loadBundle } from ${JSON.stringify(loader)}; const b = loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cache)}); console.log(b.cache, typeof b.exports.main);`;
  // V8 does not check a cache's data: handed this one, it ends the process with a fatal error (exit 133).
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(out.trim(), 'rejected function');
});
