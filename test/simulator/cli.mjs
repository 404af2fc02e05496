#!/usr/bin/env node
// @ts-check
/**
 * Runs the GitLab simulator until killed and prints {"url","baseUrl","apiUrl","token",...} as one JSON line on stdout.
 * Usage: node test/simulator/cli.mjs [--port 8080] [--projects 200] [--mrs 100] [--users 2000] [--groups 3]
 *   [--subgroups 1] [--seed 1] [--token T] [--latency-ms 20] [--admin] [--private-share 0.3] [--archived-share 0.1]
 *   [--page-size-max 100] [--offset-cap 50000] [--totals-cap 10000] [--rate-limit 600/60000] [--error-rate 0.1]
 *   [--html-errors] [--app429-rate 0.05] [--rack429-rate 0.05] [--reset-rate 0.01] [--truncate-rate 0.01]
 *   [--hang-rate 0.001] [--fault-seed 1] [--mutate 20:5:2 (everyN:update:create)] [--no-moved-projects]
 *   [--bulk-edit-size 150] [--external-url URL] [--version 17.5.0-ee]
 */
import { parseArgs } from 'node:util';
import { startSimulator } from './server.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' }, projects: { type: 'string' }, mrs: { type: 'string' }, users: { type: 'string' },
    groups: { type: 'string' }, subgroups: { type: 'string' }, seed: { type: 'string' }, token: { type: 'string' },
    'latency-ms': { type: 'string' }, admin: { type: 'boolean' }, 'private-share': { type: 'string' }, 'archived-share': { type: 'string' },
    'page-size-max': { type: 'string' }, 'offset-cap': { type: 'string' }, 'totals-cap': { type: 'string' }, 'rate-limit': { type: 'string' },
    'error-rate': { type: 'string' }, 'html-errors': { type: 'boolean' }, 'app429-rate': { type: 'string' }, 'rack429-rate': { type: 'string' },
    'reset-rate': { type: 'string' }, 'truncate-rate': { type: 'string' }, 'hang-rate': { type: 'string' }, 'fault-seed': { type: 'string' },
    mutate: { type: 'string' }, 'no-moved-projects': { type: 'boolean' }, 'bulk-edit-size': { type: 'string' },
    'external-url': { type: 'string' }, version: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write('node test/simulator/cli.mjs [--port N] [--projects N] [--mrs N] [--users N] ... (see the header of this file)\n');
  process.exit(0);
}

/** @param {string | undefined} v */
const num = (v) => (v === undefined ? undefined : Number(v));

/** @type {import('./faults.mjs').FaultOptions} */
const faults = {};
if (values['error-rate']) faults.errorRate = Number(values['error-rate']);
if (values['html-errors']) faults.htmlErrors = true;
if (values['app429-rate']) faults.app429Rate = Number(values['app429-rate']);
if (values['rack429-rate']) faults.rack429Rate = Number(values['rack429-rate']);
if (values['reset-rate']) faults.resetRate = Number(values['reset-rate']);
if (values['truncate-rate']) faults.truncateRate = Number(values['truncate-rate']);
if (values['hang-rate']) faults.hangRate = Number(values['hang-rate']);
if (values['fault-seed']) faults.seed = Number(values['fault-seed']);

let rateLimit = null;
if (values['rate-limit']) {
  const [limit, windowMs] = values['rate-limit'].split('/').map(Number);
  rateLimit = { limit: limit ?? 600, windowMs: windowMs ?? 60_000 };
}
let mutateDuringScan = null;
if (values.mutate) {
  const [everyNRequests, update, create] = values.mutate.split(':').map(Number);
  mutateDuringScan = { everyNRequests: everyNRequests ?? 10, update: update ?? 1, create: create ?? 0 };
}

const sim = await startSimulator({
  port: num(values.port) ?? 0,
  projects: num(values.projects),
  mergeRequestsPerProject: num(values.mrs),
  users: num(values.users),
  groups: num(values.groups),
  subgroupsPerGroup: num(values.subgroups),
  seed: num(values.seed),
  token: values.token,
  latencyMs: num(values['latency-ms']),
  admin: values.admin ?? false,
  privateShare: num(values['private-share']),
  archivedShare: num(values['archived-share']),
  pageSizeMax: num(values['page-size-max']),
  offsetCap: num(values['offset-cap']),
  totalsCap: num(values['totals-cap']),
  rateLimit,
  faults: Object.keys(faults).length > 0 ? faults : null,
  mutateDuringScan,
  movedProjects: !values['no-moved-projects'],
  bulkEditSize: num(values['bulk-edit-size']),
  externalUrl: values['external-url'],
  version: values.version,
});

process.stdout.write(`${JSON.stringify({
  url: sim.url, baseUrl: sim.baseUrl, apiUrl: sim.apiUrl, token: sim.token,
  projects: sim.dataset.projects.length, mergeRequests: sim.dataset.mergeRequests.length, users: sim.dataset.users.length,
})}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  sim.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
