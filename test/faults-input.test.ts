/**
 * Fault scenarios (input): bad config, state and catalog files, unreachable hosts, DNS and TLS failures, odd base URLs, foreign states: the quick subset of the fault suite (scripts/fault-suite.mjs, `npm run test:faults`).
 * Each spawns the built bin/tap-gitlab against the GitLab simulator; see test/helpers/faults.mjs for the checks
 * (records lost, token leaks, exit code, stdout only Singer JSON, no stack trace, scenario specifics).
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { DIST_CLI, scenarios } from './helpers/faults.mjs';

const skip = existsSync(DIST_CLI) ? false : 'dist/tap-gitlab.cjs is missing: run `npm run build` first';

for (const scenario of scenarios.filter((s) => s.quick && s.group === 'input')) {
  t.test(`${scenario.name}: no record lost, no token leaked, the expected exit`, { skip }, async (t) => {
    const o = await scenario.run();
    t.same(o.problems, [], 'every check of the scenario passes');
    t.equal(o.leaks, 0, 'the token appears nowhere in stdout or stderr');
    if (o.lost !== null) t.equal(o.lost, 0, 'every expected record was delivered');
  });
}
