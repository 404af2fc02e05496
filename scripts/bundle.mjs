#!/usr/bin/env node
/**
 * The second half of `npm run build`: bundles the compiled CLI (dist/cli.js, from tsc) and its
 * dependencies into one ES module, dist/tap-gitlab.mjs, which bin/tap-gitlab runs. One file
 * instead of ~150 modules starts in about 0.14 s instead of 0.34 s and with ~15 MB less memory,
 * which is most of an hourly incremental run's cost. tsc's dist/*.js stay for readers and tools.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

await esbuild.build({
  entryPoints: [join(root, 'dist', 'cli.js')],
  outfile: join(root, 'dist', 'tap-gitlab.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: true,
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // Dependencies written as CommonJS call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __tapCreateRequire } from 'node:module';\nconst require = __tapCreateRequire(import.meta.url);" },
});
