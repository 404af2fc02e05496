import t from 'tap';
import { fakeClock } from '../lib/clock.js';
import { discoverProjects, discoveryFingerprint, listProjects, listingQuery } from '../lib/discovery.js';
import { GitLabClient } from '../lib/gitlab/client.js';
import { memoryLogger } from '../lib/log.js';
import { emptyState, type TapState } from '../lib/singer/state.js';
import type { TapConfig } from '../lib/config.js';
import { fakeGitLab, project, type FakeGitLab } from './helpers/fake-gitlab.js';
import { testConfig } from './helpers/config.js';

const NAMES = ['mergemind-api', 'mergemind-auth-service', 'mergemind-billing-service', 'web-demo-app', 'data-demo-pipeline', 'infra-archive', 'docs'];

function world(): FakeGitLab {
  return fakeGitLab({
    projects: [
      ...NAMES.map((n, i) => project(i + 1, n, { visibility: 'public' })),
      project(20, 'mergemind-secret', { visibility: 'private' }),
      project(21, 'mergemind-old', { archived: true }),
      project(22, 'mergemind-not-mine', { member: false }),
    ],
    mrs: [],
  });
}

async function discover(gl: FakeGitLab, over: Partial<TapConfig>, state: TapState = emptyState(), clock = fakeClock(Date.parse('2024-06-01T00:00:00Z'))) {
  const config = testConfig(over);
  const logger = memoryLogger();
  const client = new GitLabClient({ apiUrl: config.apiUrl, token: config.token, tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 0, concurrency: 2, fetch: gl.fetch, clock, logger });
  const res = await discoverProjects({ config, client, logger, state, clock });
  return { res, logger, clock, paths: res.selected.map((p) => p.path_with_namespace.replace('acme/', '')) };
}

t.test('glob examples select the expected projects', async (t) => {
  const cases: Array<[string[], string[]]> = [
    [['*'], [...NAMES, 'mergemind-secret']],
    [['mergemind-*'], ['mergemind-api', 'mergemind-auth-service', 'mergemind-billing-service', 'mergemind-secret']],
    [['*-demo-*'], ['web-demo-app', 'data-demo-pipeline']],
    [['mergemind-*-service'], ['mergemind-auth-service', 'mergemind-billing-service']],
    [['acme/**'], [...NAMES, 'mergemind-secret']],
    [['!*-archive'], NAMES.filter((n) => n !== 'infra-archive').concat('mergemind-secret')],
  ];
  for (const [patterns, expected] of cases) {
    const { paths } = await discover(world(), { projectNamePatterns: patterns });
    t.same(paths, expected, `pattern ${patterns.join(',')}`);
  }
});

t.test('the listing is scoped to membership, keyset by id, without archived, narrowed with search', async (t) => {
  const gl = world();
  await discover(gl, { projectNamePatterns: ['mergemind-*'] });
  t.same(gl.calls, ['GET /api/v4/projects?membership=true&order_by=id&sort=asc&per_page=100&archived=false&search=mergemind-&pagination=keyset']);
  t.same(listingQuery(testConfig({ includeArchivedProjects: true, projectNamePatterns: ['*'] })), { membership: true, order_by: 'id', sort: 'asc', per_page: 100 });
});

t.test('include_private_projects false leaves private projects out, with the reason', async (t) => {
  const { paths, res } = await discover(world(), { projectNamePatterns: ['mergemind-*'], includePrivateProjects: false });
  t.notOk(paths.includes('mergemind-secret'));
  t.same(res.excluded.find((e) => e.id === 20)?.reason, 'private (include_private_projects is false)');
});

t.test('archived projects come back with include_archived_projects', async (t) => {
  const { paths } = await discover(world(), { projectNamePatterns: ['mergemind-*'], includeArchivedProjects: true });
  t.ok(paths.includes('mergemind-old'));
});

t.test('max_projects_to_sync keeps the lowest ids, every run the same', async (t) => {
  const { res } = await discover(world(), { maxProjectsToSync: 3 });
  t.same(res.selected.map((p) => p.id), [1, 2, 3]);
  t.same(res.excluded.filter((e) => e.reason.startsWith('over max_projects_to_sync')).map((e) => e.id), [4, 5, 6, 7, 20]);
});

t.test('the discovered list is cached in state and reused within discovery_cache_minutes', async (t) => {
  const gl = world();
  const first = await discover(gl, { projectNamePatterns: ['*-demo-*'] });
  t.same(first.res.cache?.project_ids, [4, 5]);
  t.equal(first.res.listed, true);
  const state: TapState = { ...emptyState(), discovery: first.res.cache };
  gl.calls.length = 0;
  const clock = first.clock;
  clock.advance(59 * 60_000);
  const hit = await discover(gl, { projectNamePatterns: ['*-demo-*'] }, state, clock);
  t.same(gl.calls, [], 'no listing request on a cache hit');
  t.same(hit.res.selected.map((p) => [p.id, p.path_with_namespace, p.raw]), [[4, 'acme/web-demo-app', null], [5, 'acme/data-demo-pipeline', null]]);
  t.equal(hit.res.listed, false);

  clock.advance(2 * 60_000);
  await discover(gl, { projectNamePatterns: ['*-demo-*'] }, state, clock);
  t.equal(gl.calls.length, 1, 'listed again once the cache expired');

  gl.calls.length = 0;
  const changed = await discover(gl, { projectNamePatterns: ['mergemind-*'] }, state, first.clock);
  t.equal(gl.calls.length, 1, 'listed again when the patterns change');
  t.ok(changed.logger.lines.some((l) => l.includes('Discovery settings changed')));
});

t.test('include_private_projects false leaves internal projects out too: only public ones are picked', async (t) => {
  const gl = fakeGitLab({
    projects: [project(1, 'mergemind-open', { visibility: 'public' }), project(2, 'mergemind-inside', { visibility: 'internal' }), project(3, 'mergemind-secret', { visibility: 'private' })],
    mrs: [],
  });
  const { paths, res } = await discover(gl, { projectNamePatterns: ['mergemind-*'], includePrivateProjects: false });
  t.same(paths, ['mergemind-open']);
  t.same(res.excluded.map((e) => [e.id, e.reason]), [
    [2, 'internal (include_private_projects is false)'],
    [3, 'private (include_private_projects is false)'],
  ]);
});

t.test('the discovery cache belongs to the token: another token lists again', async (t) => {
  t.not(discoveryFingerprint(testConfig({ token: 'glpat-aaaaaaaaaaaaaaaaaaaa' })), discoveryFingerprint(testConfig({ token: 'glpat-bbbbbbbbbbbbbbbbbbbb' })));
  t.notMatch(discoveryFingerprint(testConfig({ token: 'glpat-aaaaaaaaaaaaaaaaaaaa' })), /glpat/);
});

t.test('discovery_cache_minutes 0 disables the cache', async (t) => {
  const gl = world();
  const first = await discover(gl, { discoveryCacheMinutes: 0 });
  gl.calls.length = 0;
  await discover(gl, { discoveryCacheMinutes: 0 }, { ...emptyState(), discovery: first.res.cache ?? { fingerprint: discoveryFingerprint(testConfig({ discoveryCacheMinutes: 0 })), listed_at: '2024-06-01T00:00:00.000Z', project_ids: [1] } });
  t.equal(gl.calls.length, 1);
});

t.test('configured projects are fetched once each, by id or path; missing ones are reported as failed', async (t) => {
  const gl = world();
  const { res } = await discover(gl, { autoDiscoverProjects: false, projectIds: [4, 'acme/docs', 'acme/nope', 4] });
  t.same(res.selected.map((p) => [p.id, p.configured]), [[4, true], [7, true]]);
  t.same(res.failed.map((f) => [f.ref, f.error.code]), [['acme/nope', 'GITLAB_HTTP_404']]);
  t.same([...gl.calls].sort(), ['GET /api/v4/projects/4', 'GET /api/v4/projects/4', 'GET /api/v4/projects/acme%2Fdocs', 'GET /api/v4/projects/acme%2Fnope']);
});

t.test('--list-projects explains every decision and ignores the cache', async (t) => {
  const gl = world();
  const config = testConfig({ projectNamePatterns: ['mergemind-*', '!*-billing-*'], includePrivateProjects: false });
  const clock = fakeClock();
  const logger = memoryLogger();
  const client = new GitLabClient({ apiUrl: config.apiUrl, token: config.token, tokenType: 'private', userAgent: 'test', timeoutMs: 1000, maxRetries: 0, concurrency: 2, fetch: gl.fetch, clock, logger });
  const state: TapState = { ...emptyState(), discovery: { fingerprint: discoveryFingerprint(config), listed_at: new Date(clock.now()).toISOString(), project_ids: [1] } };
  const out = await listProjects({ config, client, logger, state, clock });
  t.same(out.selected.map((s) => [s.id, s.reason]), [[1, 'matches mergemind-*'], [2, 'matches mergemind-*']]);
  const reasons = Object.fromEntries(out.excluded.map((e) => [e.path_with_namespace, e.reason]));
  t.same(reasons, {
    'acme/mergemind-billing-service': 'excluded by !*-billing-*',
    'acme/web-demo-app': 'does not match mergemind-*',
    'acme/data-demo-pipeline': 'does not match mergemind-*',
    'acme/infra-archive': 'does not match mergemind-*',
    'acme/docs': 'does not match mergemind-*',
    'acme/mergemind-secret': 'private (include_private_projects is false)',
  });
});
