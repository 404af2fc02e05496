#!/usr/bin/env node
/**
 * `npm run build:sea`: builds tap-gitlab as a Node single executable application (SEA), one file
 * with Node inside, so the Fivetran shim (fivetran/connector.py) can run the tap where no Node is
 * installed.
 *
 *   1. `tsc` into sea/dist (or, with --skip-tsc, the existing dist/ from `npm run build`)
 *   2. esbuild: cli.js + dependencies -> sea/tap-gitlab.cjs (CommonJS, node20; a SEA main
 *      script can only require built-in modules, so everything is bundled)
 *   3. node --experimental-sea-config scripts/sea-config.json -> sea/sea-prep.blob
 *   4. copy this node binary -> fivetran/bin/tap-gitlab, postject the blob into it
 *   5. smoke test: the executable answers --about --format json and --discover; the catalog it
 *      prints is written to fivetran/catalog/catalog.json (what the shim's schema() reads)
 *
 * Options: --skip-tsc [--dist <dir>], --out <path> (default fivetran/bin/tap-gitlab), --no-verify.
 * The output is specific to this OS and CPU (build it on linux-x64 for Fivetran).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? resolve(args[args.indexOf(name) + 1]) : fallback);

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const seaDir = join(root, 'sea');
const seaConfigPath = join(root, 'scripts', 'sea-config.json');
const seaConfig = JSON.parse(readFileSync(seaConfigPath, 'utf8'));
const bundlePath = join(root, seaConfig.main);
const blobPath = join(root, seaConfig.output);
const outPath = option('--out', join(root, 'fivetran', 'bin', 'tap-gitlab'));
const catalogOut = join(root, 'fivetran', 'catalog', 'catalog.json');

const started = Date.now();
const step = (msg) => process.stderr.write(`[build-sea ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
function run(cmd, argv) {
  try {
    execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    fail(`${relative(root, argv[0] ?? cmd) || cmd} failed (exit ${err.status ?? err.code}); see the output above.`);
  }
}

function fail(msg) {
  process.stderr.write(`build-sea: ${msg}\n`);
  process.exit(1);
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) fail(`Node ${process.versions.node} cannot build single executable applications (needs 20+).`);

// 1. TypeScript, compiled into sea/dist so the build does not depend on (or disturb) dist/.
// --skip-tsc bundles an existing build instead (--dist <dir>, default dist/ from `npm run build`).
const distDir = flag('--skip-tsc') ? option('--dist', join(root, 'dist')) : join(seaDir, 'dist');
if (!flag('--skip-tsc')) {
  step('tsc -p tsconfig.json --outDir ' + relative(root, distDir));
  rmSync(distDir, { recursive: true, force: true });
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', distDir]);
}
const cliJs = join(distDir, 'cli.js');
if (!existsSync(cliJs)) fail(`${relative(root, cliJs)} is missing: run \`npm run build\` first.`);

// 2. Bundle. The entry mirrors bin/tap-gitlab (signals, EPIPE, exit code) without top-level await,
// which CommonJS does not allow. import.meta.url (used by some dependencies) becomes a file URL of
// the executable itself.
mkdirSync(seaDir, { recursive: true });
const entryPath = join(seaDir, 'sea-entry.mjs');
writeFileSync(entryPath, `import { main } from ${JSON.stringify(cliJs)};
const controller = new AbortController();
for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(code);
    controller.abort();
  });
}
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') return;
  throw err;
});
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal })
  .then((code) => { process.exitCode = code; }, (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exitCode = 1; });
`);
step('esbuild ' + relative(root, cliJs) + ' -> ' + relative(root, bundlePath));
const esbuild = await import('esbuild');
const result = await esbuild.build({
  entryPoints: [entryPath],
  outfile: bundlePath,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: 'var __sea_import_meta_url = require("node:url").pathToFileURL(typeof __filename === "string" ? __filename : process.execPath).href;',
  },
  define: { 'import.meta.url': '__sea_import_meta_url' },
});
if (result.errors.length > 0) fail('esbuild failed');

// 3. Blob
step('node --experimental-sea-config ' + relative(root, seaConfigPath));
run(process.execPath, ['--experimental-sea-config', seaConfigPath]);

// 4. Executable
step('copy ' + process.execPath + ' -> ' + relative(root, outPath));
mkdirSync(dirname(outPath), { recursive: true });
rmSync(outPath, { force: true });
copyFileSync(process.execPath, outPath);
chmodSync(outPath, 0o755);
if (process.platform === 'darwin') run('codesign', ['--remove-signature', outPath]);
step('postject NODE_SEA_BLOB');
const postjectArgs = [outPath, 'NODE_SEA_BLOB', blobPath, '--sentinel-fuse', SENTINEL_FUSE];
if (process.platform === 'darwin') postjectArgs.push('--macho-segment-name', 'NODE_SEA');
const injected = spawnSync(process.execPath, [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), ...postjectArgs], { cwd: root, encoding: 'utf8' });
// postject (LIEF) warns once per ELF note section it cannot name; harmless, and noisy.
const postjectOutput = `${injected.stdout}${injected.stderr}`.split('\n').filter((l) => l.trim() && !l.includes("Can't find string offset for section name"));
if (injected.status !== 0) fail(`postject failed (exit ${injected.status}): ${postjectOutput.join('\n')}`);
if (process.platform === 'darwin') run('codesign', ['--sign', '-', outPath]);

// 5. Smoke test + the catalog the shim bundles
if (!flag('--no-verify')) {
  const about = spawnSync(outPath, ['--about', '--format', 'json'], { encoding: 'utf8' });
  if (about.status !== 0) fail(`the executable failed --about (exit ${about.status}): ${about.stderr.trim()}`);
  const name = JSON.parse(about.stdout).name;
  step(`--about ok (${name})`);
  const discover = spawnSync(outPath, ['--discover'], { encoding: 'utf8' });
  if (discover.status !== 0) fail(`the executable failed --discover (exit ${discover.status}): ${discover.stderr.trim()}`);
  const catalog = JSON.parse(discover.stdout);
  const streams = catalog.streams.map((s) => s.tap_stream_id);
  mkdirSync(dirname(catalogOut), { recursive: true });
  writeFileSync(catalogOut, JSON.stringify(catalog, null, 2) + '\n');
  step(`--discover ok (${streams.join(', ')}) -> ${relative(root, catalogOut)}`);
}
const mb = (statSync(outPath).size / 1024 / 1024).toFixed(1);
step(`done: ${relative(root, outPath)} (${mb} MB)`);
