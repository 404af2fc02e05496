import t from 'tap';
import { matchProject, parsePatterns, searchHint } from '../lib/project-patterns.js';

const project = (path: string, name = path, ns = 'acme') => ({ path, name, path_with_namespace: `${ns}/${path}` });
const names = ['mergemind-api', 'mergemind-auth-service', 'mergemind-billing-service', 'web-demo-app', 'data-demo-pipeline', 'infra-archive', 'MergeMind-Docs'];
const pick = (patterns: string[], ns = 'acme') => names.filter((n) => matchProject(project(n, n, ns), parsePatterns(patterns)).matched);

t.test('"*" selects every project', async (t) => {
  t.same(pick(['*']), names);
});

t.test('"mergemind-*" selects by prefix, ignoring case', async (t) => {
  t.same(pick(['mergemind-*']), ['mergemind-api', 'mergemind-auth-service', 'mergemind-billing-service', 'MergeMind-Docs']);
});

t.test('"*-demo-*" selects by infix', async (t) => {
  t.same(pick(['*-demo-*']), ['web-demo-app', 'data-demo-pipeline']);
});

t.test('"mergemind-*-service" needs both ends', async (t) => {
  t.same(pick(['mergemind-*-service']), ['mergemind-auth-service', 'mergemind-billing-service']);
});

t.test('a pattern with a slash matches path_with_namespace, "**" spans subgroups', async (t) => {
  const set = parsePatterns(['group/sub/**']);
  t.ok(matchProject({ path: 'x', name: 'x', path_with_namespace: 'group/sub/x' }, set).matched);
  t.ok(matchProject({ path: 'y', name: 'y', path_with_namespace: 'group/sub/deeper/y' }, set).matched);
  t.notOk(matchProject({ path: 'z', name: 'z', path_with_namespace: 'group/other/z' }, set).matched);
});

t.test('"!" excludes, and exclusions alone keep everything else', async (t) => {
  t.same(pick(['!*-archive']), names.filter((n) => n !== 'infra-archive'));
  t.same(pick(['mergemind-*', '!*-service']), ['mergemind-api', 'MergeMind-Docs']);
  t.same(matchProject(project('infra-archive'), parsePatterns(['!*-archive'])), { matched: false, by: '!*-archive' });
});

t.test('the display name matches too', async (t) => {
  t.ok(matchProject({ path: 'mm-api', name: 'mergemind-api', path_with_namespace: 'a/mm-api' }, parsePatterns(['mergemind-*'])).matched);
});

t.test('searchHint sends the longest literal of a single pattern', async (t) => {
  t.equal(searchHint(parsePatterns(['mergemind-*'])), 'mergemind-');
  t.equal(searchHint(parsePatterns(['mergemind-*-service'])), 'mergemind-');
  t.equal(searchHint(parsePatterns(['*-demo-*'])), '-demo-');
  t.equal(searchHint(parsePatterns(['*'])), null);
  t.equal(searchHint(parsePatterns(['a*'])), null, 'literals under 3 characters are not sent');
  t.equal(searchHint(parsePatterns(['mergemind-*', 'web-*'])), null, 'several patterns cannot share one search');
  t.equal(searchHint(parsePatterns(['group/sub/**'])), null);
  t.equal(searchHint(parsePatterns(['group/*/billing-*'])), 'billing-');
});

t.test('searchHint sends nothing for a pattern with alternatives, classes or escapes, whose literals are not in every match', async (t) => {
  t.equal(searchHint(parsePatterns(['{mobile,web}-*'])), null);
  t.equal(searchHint(parsePatterns(['@(api|web)-gateway'])), null);
  t.equal(searchHint(parsePatterns(['[ab]pi-service'])), null);
  t.equal(searchHint(parsePatterns(['mergemind\\*'])), null);
  const set = parsePatterns(['{mobile,web}-*']);
  t.ok(matchProject({ path: 'web-shop', name: 'Web shop', path_with_namespace: 'g/web-shop' }, set).matched, 'the glob itself still matches on the client');
});

t.test('searchHint sends one word of 3+ characters: GitLab ANDs words and matches words all under 3 characters exactly', async (t) => {
  t.equal(searchHint(parsePatterns(['QA UI*'])), null);
  t.equal(searchHint(parsePatterns(['Data platform*'])), 'platform');
  t.equal(searchHint(parsePatterns(['ab+cdef-*'])), 'cdef-');
});
