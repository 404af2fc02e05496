#!/usr/bin/env node
// @ts-check
/**
 * The fault suite (`npm run test:faults`): runs every scenario of test/helpers/faults.mjs against
 * the built bin/tap-gitlab and the GitLab simulator, one after the other, and prints a table:
 * scenario, requests, retries, 429s, records expected / delivered / lost, token leaks, exit code(s)
 * and the first line of stderr. Failed checks are listed under the table. Ends with the line
 * `faults: N passed, N failed` and exits 1 when a scenario failed (2 when the build is missing).
 *
 * Options: --only <text> (scenarios whose name contains it), --quick (the subset `npm test` runs),
 * --slow (the others: what CI runs after `npm test`, so that no scenario is counted twice).
 * Build first: `npm run build`.
 */
import { parseArgs } from 'node:util';
import { scenarios, staleBuild } from '../test/helpers/faults.mjs';

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' }, slow: { type: 'boolean' } } });

const stale = staleBuild();
if (stale[0] === 'dist/tap-gitlab.cjs is missing') {
  process.stderr.write('fault-suite: dist/tap-gitlab.cjs is missing; run `npm run build` first.\n');
  process.exit(2);
}
if (stale.length > 0) process.stderr.write(`fault-suite: warning: dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ' …' : ''}; run \`npm run build\` to test the current code.\n`);

const chosen = scenarios.filter((s) => (!values.only || s.name.includes(values.only)) && (!values.quick || s.quick) && (!values.slow || !s.quick));

/** @type {import('../test/helpers/faults.mjs').Outcome[]} */
const outcomes = [];
const started = Date.now();
for (const s of chosen) {
  process.stderr.write(`fault-suite: ${s.name} ...`);
  /** @type {import('../test/helpers/faults.mjs').Outcome} */
  let o;
  try {
    o = await s.run();
  } catch (err) {
    o = { name: s.name, requests: null, retries: null, r429: null, expected: null, delivered: null, lost: null, leaks: 0, exit: '-', stderr1: '', problems: [`the scenario itself failed: ${err instanceof Error ? err.stack : String(err)}`], seconds: 0 };
  }
  outcomes.push(o);
  process.stderr.write(` ${o.problems.length === 0 ? 'ok' : 'FAILED'} (${o.seconds.toFixed(1)}s)\n`);
}

const dash = (/** @type {number | null} */ v) => (v === null ? '-' : String(v));
const header = ['scenario', 'requests', 'retries', '429s', 'expected', 'delivered', 'lost', 'leaks', 'exit', 'secs', 'ok', 'first line of stderr'];
const rows = outcomes.map((o) => [
  o.name,
  dash(o.requests),
  dash(o.retries),
  dash(o.r429),
  dash(o.expected),
  dash(o.delivered),
  dash(o.lost),
  String(o.leaks),
  o.exit,
  o.seconds.toFixed(1),
  o.problems.length === 0 ? 'ok' : 'FAIL',
  o.stderr1.length > 110 ? `${o.stderr1.slice(0, 107)}...` : o.stderr1,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const numeric = new Set([1, 2, 3, 4, 5, 6, 7, 9]);
const fmt = (/** @type {string[]} */ r) => r.map((cell, i) => (i === r.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
const out = [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];

const failed = outcomes.filter((o) => o.problems.length > 0);
if (failed.length > 0) {
  out.push('', 'Failures:');
  for (const o of failed) for (const p of o.problems) out.push(`  ${o.name}: ${p}`);
}
out.push('', `total ${((Date.now() - started) / 1000).toFixed(1)}s`);
out.push(`faults: ${outcomes.length - failed.length} passed, ${failed.length} failed`);
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = failed.length > 0 ? 1 : 0;
