import t from 'tap';
import { Compile } from 'typebox/compile';
import { ConfigError } from '../lib/errors.js';
import {
  RawConfigSchema,
  checkConfig,
  configFromEnvVars,
  configSettings,
  normaliseStartDate,
  parseConfig,
  type TapConfig,
} from '../lib/config.js';
import { VERSION } from '../lib/version.js';

const TOKEN = 'glpat-SECRET-xyz';

/** The problems of a config that must fail. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('a minimal config gets every default', async (t) => {
  const config = parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: [42] });
  const expected: TapConfig = {
    token: TOKEN,
    tokenType: 'private',
    baseUrl: 'https://gitlab.com',
    apiUrl: 'https://gitlab.com/api/v4',
    autoDiscoverProjects: false,
    projectNamePatterns: ['*'],
    includePrivateProjects: true,
    includeArchivedProjects: false,
    maxProjectsToSync: null,
    projectIds: [42],
    startDate: null,
    syncProjectsTable: true,
    syncMergeRequestsTable: true,
    syncUsersTable: true,
    maxRecordsPerSync: null,
    syncIntervalHours: 0,
    pageSize: 100,
    concurrency: 4,
    requestTimeoutMs: 60_000,
    maxRetries: 8,
    userAgent: `tap-gitlab/${VERSION}`,
    discoveryCacheMinutes: 60,
    userEnrichment: 'graphql',
    lookbackMinutes: 0,
  };
  t.same(config, expected);
});

t.test('a Fivetran-style config of strings is coerced to booleans, numbers and lists', async (t) => {
  const config = parseConfig({
    gitlab_token: TOKEN,
    gitlab_base_url: 'https://gitlab.example.com/',
    auto_discover_projects: 'TRUE',
    project_name_pattern: 'group/*, !group/archive-*',
    include_private_projects: 'no',
    include_archived_projects: '1',
    max_projects_to_sync: '100',
    gitlab_project_ids: '4,5, 6',
    start_date: '2024-01-31',
    sync_projects_table: 'false',
    sync_merge_requests_table: 'yes',
    sync_users_table: '0',
    max_records_per_sync: ' 5000 ',
    sync_interval_hours: '1.5',
    page_size: '50',
    max_concurrency: '2',
    request_timeout_seconds: '30',
    max_retries: '3',
    discovery_cache_minutes: '0',
    user_enrichment: 'NONE',
    lookback_minutes: '15',
    gitlab_token_type: 'Bearer',
  });
  t.same(config, {
    token: TOKEN,
    tokenType: 'bearer',
    baseUrl: 'https://gitlab.example.com',
    apiUrl: 'https://gitlab.example.com/api/v4',
    autoDiscoverProjects: true,
    projectNamePatterns: ['group/*', '!group/archive-*'],
    includePrivateProjects: false,
    includeArchivedProjects: true,
    maxProjectsToSync: 100,
    projectIds: [4, 5, 6],
    startDate: '2024-01-31T00:00:00.000Z',
    syncProjectsTable: false,
    syncMergeRequestsTable: true,
    syncUsersTable: false,
    maxRecordsPerSync: 5000,
    syncIntervalHours: 1.5,
    pageSize: 50,
    concurrency: 2,
    requestTimeoutMs: 30_000,
    maxRetries: 3,
    userAgent: `tap-gitlab/${VERSION}`,
    discoveryCacheMinutes: 0,
    userEnrichment: 'none',
    lookbackMinutes: 15,
  });
});

t.test('booleans accept JSON values and the usual words', async (t) => {
  const cases: Array<[unknown, boolean]> = [
    [true, true], [false, false], ['true', true], ['False', false], ['1', true], ['0', false],
    ['yes', true], ['NO', false], ['on', true], ['off', false], [1, true], [0, false], [' true ', true],
  ];
  for (const [value, expected] of cases) {
    t.equal(parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1', include_private_projects: value }).includePrivateProjects, expected, JSON.stringify(value));
  }
  for (const value of ['maybe', 2, 'tru', [true], {}]) {
    t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', include_private_projects: value }), [/^include_private_projects must be true or false/], JSON.stringify(value));
  }
});

t.test('project ids accept numbers, paths, lists, JSON-list strings and a single number', async (t) => {
  const ids = (v: unknown) => parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: v }).projectIds;
  t.same(ids('4,5,6'), [4, 5, 6]);
  t.same(ids('group/a, group/sub/b'), ['group/a', 'group/sub/b']);
  t.same(ids([4, '5', 'group/a']), [4, 5, 'group/a']);
  t.same(ids('[7, "g/p"]'), [7, 'g/p']);
  t.same(ids(42), [42]);
  t.same(ids('4,,5,'), [4, 5], 'empty items are dropped');
  t.same(ids('/group/a/'), ['group/a'], 'leading and trailing slashes are dropped');
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: 'four' }), [/^gitlab_project_ids must be positive numeric project ids or group\/project paths .*the string "four"/]);
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: [-3] }), [/^gitlab_project_ids must be .*the number -3/]);
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: [{ id: 1 }] }), [/^gitlab_project_ids must be a list or a comma-separated string/]);
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '[1,' }), [/not a JSON list/]);
});

t.test('the base URL is normalised: no trailing slash, no /api/v4, sub-paths kept', async (t) => {
  const base = (v: string) => parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1', gitlab_base_url: v });
  t.equal(base('https://gitlab.example.com/api/v4/').baseUrl, 'https://gitlab.example.com');
  t.equal(base('https://gitlab.example.com/api/v4').apiUrl, 'https://gitlab.example.com/api/v4');
  t.equal(base('https://example.com/gitlab/').baseUrl, 'https://example.com/gitlab');
  t.equal(base('HTTPS://GitLab.Example.com').baseUrl, 'https://gitlab.example.com');
  t.equal(base('http://127.0.0.1:8080').apiUrl, 'http://127.0.0.1:8080/api/v4');
});

t.test('base URLs that cannot work are rejected with the reason', async (t) => {
  const problem = (v: unknown) => problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', gitlab_base_url: v });
  t.match(problem('ftp://gitlab.example.com'), [/^gitlab_base_url must be an http:\/\/ or https:\/\/ URL .*the scheme "ftp" is not supported.*got the string "ftp:\/\/gitlab.example.com"\.$/]);
  t.match(problem('gitlab.example.com'), [/^gitlab_base_url must be an http:\/\/ or https:\/\/ URL .*got the string "gitlab.example.com"\.$/]);
  t.match(problem('https://user:pw@gitlab.example.com'), [/without a user name or password/]);
  t.match(problem('https://gitlab.example.com/?x=1'), [/without a query or fragment/]);
  t.match(problem(42), [/^gitlab_base_url must be a string, got the number 42\.$/]);
});

t.test('a credential written into gitlab_base_url is never quoted: user info and query are masked, and the token goes in gitlab_token', async (t) => {
  const secret = 'glpat-AbCdEf0123456789wxyz';
  const problem = (v: unknown) => problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', gitlab_base_url: v });
  t.same(problem(`https://oauth2:${secret}@gitlab.example.com`), [
    'gitlab_base_url must be an http:// or https:// URL such as "https://gitlab.example.com" without a user name or password in it (put the token in gitlab_token), got the string "https://***@gitlab.example.com".',
  ]);
  t.same(problem(`https://gitlab.example.com/?private_token=${secret}`), [
    'gitlab_base_url must be an http:// or https:// URL such as "https://gitlab.example.com" without a query or fragment (put the token in gitlab_token, not in the URL), got the string "https://gitlab.example.com/?***".',
  ]);
  t.match(problem(`https://oauth2:${secret}@gitlab.example.com/?private_token=${secret}`), [/got the string "https:\/\/\*\*\*@gitlab\.example\.com\/\?\*\*\*"\.$/]);
  const others = [
    `oauth2:s3cret-Value-0042@gitlab.example.com`, // no scheme: parsed as the scheme "oauth2"
    `https:/oauth2:s3cret-Value-0042@gitlab.example.com`,
    `https://oauth2:s3cret-Value-0042@gitlab example.com`, // not a URL at all
    `https://gitlab.example.com/#access_token=s3cret-Value-0042`,
    `https://a-very-long-host-name-for-the-gitlab-instance.example.com/?token=s3cret-Value-0042`,
    secret, // the token itself, pasted into the wrong field
  ];
  for (const v of others) {
    const [p = ''] = problem(v);
    t.match(p, /^gitlab_base_url must be /, v);
    t.notMatch(p, /s3cret|Value-0042|AbCdEf|0123456789/, `no piece of the credential in: ${p}`);
  }
  const [ids = ''] = problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: 'https://oauth2:s3cret-Value-0042@gitlab.com/g/p' });
  t.match(ids, /^gitlab_project_ids must be positive numeric project ids .*"https:\/\/\*\*\*@gitlab\.com\/g\/p"\.$/);
});

t.test('the token is never quoted, even when its value is written into another setting', async (t) => {
  const token = 'my-oauth-token-0042';
  const problems = problemsOf({ gitlab_token: token, gitlab_project_ids: '1', user_enrichment: token, start_date: `${token} `, page_size: token });
  t.equal(problems.length, 3);
  for (const p of problems) t.notMatch(p, /oauth-token-0042/, p);
  t.match(problems, [/^start_date must be .*\[REDACTED\]/, /^page_size must be /, /^user_enrichment must be /]);
});

t.test('a token with a line break, space, control character or non-ASCII character inside is rejected without quoting it', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['glpat-AbCdEf0123\n456789wxyz', /^gitlab_token has a line break inside it \(a wrapped value\?\); put the token on one line/],
    ['glpat-AbCdEf0123\r\n456789wxyz', /^gitlab_token has a line break inside it/],
    ['glpat-AbCdEf0123 456789wxyz', /^gitlab_token has a space or tab inside it/],
    ['glpat-AbCdEf0123\t456789wxyz', /^gitlab_token has a space or tab inside it/],
    ['glpat-AbCdEf0123\u0000456789wxyz', /^gitlab_token has a control character inside it/],
    ['glpat-AbCdEf0123\u2013456789wxyz', /^gitlab_token has a character that is not plain ASCII/],
  ];
  for (const [token, expected] of cases) {
    const problems = problemsOf({ gitlab_token: token, gitlab_project_ids: '1' });
    t.equal(problems.length, 1, JSON.stringify(token));
    t.match(problems[0], expected, JSON.stringify(token));
    t.notMatch(problems[0], /AbCdEf|456789/, 'no piece of the token');
  }
  t.match(problemsOf({ private_token: 'a\nb-secret', gitlab_project_ids: '1' }), [/^private_token has a line break/], 'names the key as written');
  t.equal(parseConfig({ gitlab_token: `\n  ${TOKEN}\t\r\n`, gitlab_project_ids: '1' }).token, TOKEN, 'whitespace around the token is trimmed');
  t.equal(parseConfig({ gitlab_token: 'eyJhbGciOi.JIUzI1NiJ9-_~+/=', gitlab_token_type: 'bearer', gitlab_project_ids: '1' }).token, 'eyJhbGciOi.JIUzI1NiJ9-_~+/=', 'OAuth token characters pass');
});

t.test('plain http to a remote host warns, loopback does not', async (t) => {
  const warn = (url: string) => checkConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1', gitlab_base_url: url }).warnings;
  t.match(warn('http://gitlab.internal'), [/gitlab_base_url uses plain http:\/\/ to a remote host/]);
  t.same(warn('http://localhost:3000'), []);
  t.same(warn('http://127.0.0.1:3000'), []);
  t.same(warn('http://[::1]:3000'), []);
  t.same(warn('https://gitlab.internal'), []);
});

t.test('private_token and api_url are aliases; conflicting values are an error', async (t) => {
  const config = parseConfig({ private_token: TOKEN, api_url: 'https://gitlab.example.com/api/v4', gitlab_project_ids: '1' });
  t.equal(config.token, TOKEN);
  t.equal(config.baseUrl, 'https://gitlab.example.com');
  t.equal(parseConfig({ private_token: TOKEN, gitlab_token: TOKEN, gitlab_project_ids: '1' }).token, TOKEN, 'same value twice is fine');
  const problems = problemsOf({ gitlab_token: TOKEN, private_token: 'glpat-OTHER', gitlab_project_ids: '1' });
  t.same(problems, ['gitlab_token and private_token are the same setting but have different values; keep only one of them.']);
});

t.test('start_date accepts RFC 3339 and YYYY-MM-DD and normalises to UTC Z', async (t) => {
  t.equal(normaliseStartDate('2024-01-31'), '2024-01-31T00:00:00.000Z');
  t.equal(normaliseStartDate('2024-01-31T10:00:00+02:00'), '2024-01-31T08:00:00.000Z');
  t.equal(normaliseStartDate('2024-01-31T10:00:00.5Z'), '2024-01-31T10:00:00.500Z');
  t.equal(normaliseStartDate('2024-01-31 10:00:00z'), '2024-01-31T10:00:00.000Z');
  t.equal(normaliseStartDate('2024-01-31T10:00:00'), '2024-01-31T10:00:00.000Z', 'no offset is UTC, as in the state');
  t.equal(normaliseStartDate('2024-01-31T10:00:00+0000'), '2024-01-31T10:00:00.000Z');
  t.equal(normaliseStartDate(' 2024-01-31T10:00:00.123456Z '), '2024-01-31T10:00:00.123456Z', 'microseconds kept');
  for (const bad of ['yesterday', '2024-02-30', '2024-13-01', '2024-01-31T25:00:00Z', '2024-01-31T10:00:00+25:00', '31/01/2024', '']) {
    t.equal(normaliseStartDate(bad), null, bad);
  }
  t.same(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', start_date: 'yesterday' }), [
    'start_date must be an RFC 3339 date-time such as "2024-01-31T00:00:00Z" or a date such as "2024-01-31", got the string "yesterday".',
  ]);
});

t.test('every problem is reported at once, one sentence each naming the key', async (t) => {
  const problems = problemsOf({
    gitlab_token: 12345,
    max_projects_to_sync: 'abc',
    page_size: 101,
    max_concurrency: -1,
    user_enrichment: 'ldap',
    project_name_pattern: [],
    start_date: 'yesterday',
    sync_interval_hours: '-2',
  });
  t.same(problems, [
    'gitlab_token must be a string (a GitLab access token), got a number.',
    'project_name_pattern is empty; give at least one glob such as "my-group/*", or leave the key out to match every project.',
    'max_projects_to_sync must be a whole number of 0 or more (a JSON number or a string like "10"), got the string "abc".',
    'start_date must be an RFC 3339 date-time such as "2024-01-31T00:00:00Z" or a date such as "2024-01-31", got the string "yesterday".',
    'sync_interval_hours must be a number of 0 or more (a JSON number or a string like "10"), got the string "-2".',
    'page_size must be a whole number from 1 to 100 (a JSON number or a string like "100"), got the number 101.',
    'max_concurrency must be a whole number from 1 to 16 (a JSON number or a string like "4"), got the number -1.',
    'user_enrichment must be one of "graphql", "admin", "per_user", "none", got the string "ldap".',
    'Nothing to sync: gitlab_project_ids is empty and auto_discover_projects is false; set gitlab_project_ids (for example "4,5,6" or "my-group/my-project") or set auto_discover_projects to true.',
  ]);
  for (const p of problems) t.notMatch(p, /\n/, 'one line each');
});

t.test('a missing or blank token is named, and its value is never shown', async (t) => {
  t.match(problemsOf({ gitlab_project_ids: '1' }), [/^gitlab_token is missing; set it \(or private_token/]);
  t.match(problemsOf({ gitlab_token: '  ', gitlab_project_ids: '1' }), [/^gitlab_token is empty/]);
  t.match(problemsOf({ gitlab_token: null, gitlab_project_ids: '1' }), [/^gitlab_token is missing/]);
  t.same(problemsOf({ gitlab_token: [TOKEN], gitlab_project_ids: '1' }), ['gitlab_token must be a string (a GitLab access token), got a list.']);
  t.same(problemsOf({ private_token: { value: TOKEN }, gitlab_project_ids: '1' }), ['private_token must be a string (a GitLab access token), got an object.']);
});

t.test('nothing to sync and no table selected are whole-config problems', async (t) => {
  t.same(problemsOf({ gitlab_token: TOKEN, auto_discover_projects: false, gitlab_project_ids: '' }), [
    'Nothing to sync: gitlab_project_ids is empty and auto_discover_projects is false; set gitlab_project_ids (for example "4,5,6" or "my-group/my-project") or set auto_discover_projects to true.',
  ]);
  t.same(problemsOf({ gitlab_token: TOKEN, auto_discover_projects: true, sync_projects_table: false, sync_merge_requests_table: 'false', sync_users_table: '0' }), [
    'sync_projects_table, sync_merge_requests_table and sync_users_table are all false, so no stream would be synced; set at least one of them to true.',
  ]);
  t.equal(parseConfig({ gitlab_token: TOKEN, auto_discover_projects: true }).autoDiscoverProjects, true, 'auto-discovery alone is enough');
});

t.test('blank strings and null mean "not set"; 0 caps mean no cap', async (t) => {
  const config = parseConfig({
    gitlab_token: TOKEN, gitlab_project_ids: '1', max_projects_to_sync: '', start_date: '', gitlab_base_url: null,
    max_records_per_sync: 0, page_size: '',
  });
  t.equal(config.maxProjectsToSync, null);
  t.equal(config.maxRecordsPerSync, null);
  t.equal(config.startDate, null);
  t.equal(config.baseUrl, 'https://gitlab.com');
  t.equal(config.pageSize, 100);
});

t.test('a blank project_name_pattern (a Fivetran form left empty) is not set, with a warning, and a run with project ids goes on', async (t) => {
  const { config, warnings } = checkConfig({ gitlab_token: TOKEN, auto_discover_projects: 'false', project_name_pattern: '', gitlab_project_ids: '104, 107', start_date: '' });
  t.same(config.projectNamePatterns, ['*']);
  t.same(config.projectIds, [104, 107]);
  t.same(warnings, [], 'no warning: without auto-discovery the pattern is not used');
  t.same(checkConfig({ gitlab_token: TOKEN, auto_discover_projects: 'true', project_name_pattern: ' ' }).warnings, ['project_name_pattern is blank, so it is taken as not set: auto-discovery matches every project.']);
  t.match(problemsOf({ gitlab_token: TOKEN, auto_discover_projects: true, project_name_pattern: [] }), [/^project_name_pattern is empty; give at least one glob/], 'an empty list is still a mistake');
});

t.test('numbers must be whole where whole numbers are expected', async (t) => {
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', page_size: 10.5 }), [/^page_size must be a whole number from 1 to 100 .*got the number 10\.5\.$/]);
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', max_retries: '3.0' }), [/^max_retries must be a whole number/]);
  t.match(problemsOf({ gitlab_token: TOKEN, gitlab_project_ids: '1', max_records_per_sync: true }), [/^max_records_per_sync must be a whole number .*got the boolean true\.$/]);
  t.equal(parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1', request_timeout_seconds: '2.5' }).requestTimeoutMs, 2500);
});

t.test('unknown keys are warnings with a suggestion, not errors', async (t) => {
  const { config, warnings } = checkConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1', page_sise: 5, meltano_extra: 'x' });
  t.equal(config.pageSize, 100);
  t.same(warnings, ['Ignoring unknown config key "page_sise" (did you mean "page_size"?).', 'Ignoring unknown config key "meltano_extra".']);
});

t.test('a config that is not an object is one problem', async (t) => {
  t.same(problemsOf([1, 2]), ['The config must be a JSON object of settings, got a list.']);
  t.same(problemsOf('x'), ['The config must be a JSON object of settings, got the string "x".']);
});

t.test('TAP_GITLAB_* variables override the raw config when env is given', async (t) => {
  const env = {
    TAP_GITLAB_PRIVATE_TOKEN: TOKEN,
    TAP_GITLAB_START_DATE: '2024-05-01',
    TAP_GITLAB_SYNC_USERS_TABLE: 'false',
    TAP_GITLAB_PAGE_SIZE: '',
    OTHER: 'ignored',
  };
  t.same(configFromEnvVars(env), { private_token: TOKEN, start_date: '2024-05-01', sync_users_table: 'false' });
  const config = parseConfig({ gitlab_token: 'glpat-file', gitlab_project_ids: [1], page_size: 20 }, env);
  t.equal(config.token, TOKEN, 'the alias from the environment wins over the file');
  t.equal(config.startDate, '2024-05-01T00:00:00.000Z');
  t.equal(config.syncUsersTable, false);
  t.equal(config.pageSize, 20, 'an empty variable is not set');
});

t.test('the raw TypeBox schema accepts JSON values and strings, and rejects other shapes', async (t) => {
  const check = Compile(RawConfigSchema);
  t.ok(check.Check({ gitlab_token: 'x', page_size: '10', auto_discover_projects: 'true', gitlab_project_ids: [1, 'a/b'], extra: {} }));
  t.ok(check.Check({ private_token: 'x', gitlab_project_ids: '1,2', start_date: null }));
  t.notOk(check.Check({ gitlab_token: 1 }));
  t.notOk(check.Check({ page_size: {} }));
  t.notOk(check.Check({ gitlab_project_ids: [{}] }));
});

t.test('every setting is documented once with a description', async (t) => {
  const names = configSettings.flatMap((s) => [s.name, ...s.aliases]);
  t.equal(new Set(names).size, names.length, 'no duplicate names');
  for (const s of configSettings) t.ok(s.description.length > 10, `${s.name} has a description`);
  t.same(configSettings.filter((s) => s.secret).map((s) => s.name), ['gitlab_token']);
});

t.test('a project_name_pattern string is split on commas outside braces, so a {a,b} glob stays one pattern', async (t) => {
  const c = parseConfig({ gitlab_token: TOKEN, auto_discover_projects: true, project_name_pattern: '{mobile,web}-*, !*-old, @(api|web)-x' });
  t.same(c.projectNamePatterns, ['{mobile,web}-*', '!*-old', '@(api|web)-x']);
});
