import t, { type Test } from 'tap';
import { Writable } from 'node:stream';
import fetchMock from 'fetch-mock';
import { main, formatProjectTable, type CliIo } from '../lib/cli.js';
import type { SyncOptions } from '../lib/sync.js';
import { settingsMarkdownTable } from '../lib/about.js';
import { VERSION } from '../lib/version.js';

const TOKEN = 'glpat-SECRET-xyz';
const BASE = 'https://gitlab.example.com';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface FakeIo extends CliIo {
  stdout: Sink;
  stderr: Sink;
}

/** A CliIo over in-memory files; fetch fails the test unless one is given. */
function fakeIo(t: Test, files: Record<string, string>, over: Partial<Omit<CliIo, 'stdout' | 'stderr'>> = {}): FakeIo {
  return {
    stdout: new Sink(),
    stderr: new Sink(),
    env: {},
    fetch: (async () => {
      t.fail('no network call was expected');
      throw new Error('no network in this test');
    }) as typeof fetch,
    readFile: async (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    ...over,
  };
}

const json = (v: unknown): string => JSON.stringify(v, null, 2);

t.test('bad configs exit 2 with one line naming the key, and never show the token', async (t) => {
  const cases: Array<{ name: string; file: string; key: RegExp }> = [
    { name: 'missing token', file: json({ gitlab_project_ids: [1], gitlab_tokn: TOKEN }), key: /gitlab_token is missing/ },
    { name: 'max_projects_to_sync "abc"', file: json({ gitlab_token: TOKEN, auto_discover_projects: true, max_projects_to_sync: 'abc' }), key: /max_projects_to_sync must be a whole number .*"abc"/ },
    { name: 'start_date "yesterday"', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', start_date: 'yesterday' }), key: /start_date must be an RFC 3339 date-time .*"yesterday"/ },
    { name: 'ftp base URL', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', gitlab_base_url: 'ftp://gitlab.example.com' }), key: /gitlab_base_url must be an http:\/\/ or https:\/\/ URL .*"ftp"/ },
    { name: 'base URL that is not a URL', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', api_url: 'not a url' }), key: /api_url must be an http:\/\/ or https:\/\/ URL/ },
    { name: 'nothing to sync', file: json({ gitlab_token: TOKEN, auto_discover_projects: 'false', gitlab_project_ids: [] }), key: /Nothing to sync: gitlab_project_ids is empty and auto_discover_projects is false/ },
    { name: 'no table selected', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', sync_projects_table: false, sync_merge_requests_table: false, sync_users_table: false }), key: /sync_projects_table, sync_merge_requests_table and sync_users_table are all false/ },
    { name: 'page_size out of range', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', page_size: '500' }), key: /page_size must be a whole number from 1 to 100 .*"500"/ },
    { name: 'negative number', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', max_records_per_sync: -5 }), key: /max_records_per_sync must be a whole number of 0 or more .*-5/ },
    { name: 'unknown user_enrichment', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', user_enrichment: 'ldap' }), key: /user_enrichment must be one of "graphql", "admin", "per_user", "none"/ },
    { name: 'empty project_name_pattern list', file: json({ gitlab_token: TOKEN, auto_discover_projects: true, project_name_pattern: [] }), key: /project_name_pattern is empty/ },
    { name: 'token of the wrong type', file: json({ gitlab_token: { value: TOKEN }, gitlab_project_ids: '1' }), key: /gitlab_token must be a string \(a GitLab access token\), got an object/ },
    { name: 'conflicting aliases', file: json({ gitlab_token: TOKEN, private_token: `${TOKEN}-2`, gitlab_project_ids: '1' }), key: /gitlab_token and private_token are the same setting but have different values/ },
    { name: 'token pasted into another key', file: json({ gitlab_token: TOKEN, gitlab_project_ids: '1', start_date: TOKEN }), key: /start_date must be an RFC 3339 date-time .*\[REDACTED\]/ },
    { name: 'malformed JSON file', file: `{\n  "gitlab_token": ${TOKEN}\n}`, key: /The config file config\.json is not valid JSON: unexpected character 'g' at line 2, column 19\./ },
    { name: 'JSON with a trailing comma', file: `{\n  "gitlab_token": "${TOKEN}",\n}`, key: /The config file config\.json is not valid JSON: expected double-quoted property name at line 3, column 1\./ },
    { name: 'config file holding a list', file: json([{ gitlab_token: TOKEN }]), key: /The config file config\.json must hold a JSON object of settings, not a list/ },
    { name: 'empty config file', file: '  \n', key: /The config file config\.json is empty/ },
  ];
  for (const c of cases) {
    const io = fakeIo(t, { 'config.json': c.file });
    const code = await main(['--config', 'config.json'], io);
    t.equal(code, 2, `${c.name}: exit code 2`);
    t.equal(io.stdout.text, '', `${c.name}: nothing on stdout`);
    const lines = io.stderr.text.split('\n').filter((l) => l !== '');
    t.equal(lines.length, 1, `${c.name}: one line`);
    t.match(lines[0], /^tap-gitlab: /, `${c.name}: prefixed`);
    t.match(lines[0], c.key, `${c.name}: names the key`);
    t.notMatch(io.stderr.text, 'SECRET', `${c.name}: no token on stderr`);
  }
});

t.test('a credential in gitlab_base_url exits 2 with the URL masked, never the credential', async (t) => {
  const secret = 'glpat-AbCdEf0123456789wxyz';
  for (const url of [`https://oauth2:${secret}@gitlab.example.com`, `https://gitlab.example.com/?private_token=${secret}`]) {
    const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: url, gitlab_project_ids: '1' }) });
    t.equal(await main(['--config', 'c.json', '--log-level', 'debug'], io), 2);
    t.match(io.stderr.text, /^tap-gitlab: gitlab_base_url must be an http:\/\/ or https:\/\/ URL .*\(put the token in gitlab_token.*, got the string "https:\/\/(\*\*\*@gitlab\.example\.com|gitlab\.example\.com\/\?\*\*\*)" \(in the config file c\.json\)\.\n/);
    t.notMatch(io.stderr.text, /AbCdEf|0123456789/, url);
  }
});

t.test('a token with a line break inside exits 2 naming the key, and no piece of it reaches stderr', async (t) => {
  const [half1, half2] = ['glpat-AbCdEf0123', '456789wxyzQRST'];
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: `${half1}\n${half2}`, gitlab_base_url: BASE, gitlab_project_ids: '1' }) });
  t.equal(await main(['--config', 'c.json', '--test', '--log-level', 'debug'], io), 2);
  t.match(io.stderr.text, /^tap-gitlab: gitlab_token has a line break inside it .*\(in the config file c\.json\)\.\n  code: CONFIG_INVALID\n$/);
  t.notMatch(io.stderr.text, half1);
  t.notMatch(io.stderr.text, half2);
});

t.test('an error quoting a token is redacted before it is collapsed to one line, in every form the token may take', async (t) => {
  // As if validation had let a wrapped token through: the error quotes it as it is, collapsed, JSON-escaped or in pieces.
  const [half1, half2] = ['glpat-AbCdEf0123', '456789wxyzQRST'];
  const token = `${half1}\n  ${half2}`;
  const real = await import('../lib/config.js');
  const cli = await t.mockImport<typeof import('../lib/cli.js')>('../lib/cli.js', {
    '../lib/config.js': {
      ...real,
      checkConfig: () => ({ config: { ...real.parseConfig({ gitlab_token: TOKEN, gitlab_project_ids: '1' }), token }, warnings: [] }),
    },
    '../lib/sync.js': {
      runSync: async () => {
        throw new TypeError(`Headers.append: "${token}" is an invalid header value`, {
          cause: new Error(`sent ${half1} ${half2}, then ${JSON.stringify(token)}, then ${half2} alone`),
        });
      },
    },
  });
  const files = { 'c.json': json({ gitlab_token: token, gitlab_project_ids: '1' }) };
  const info = fakeIo(t, files);
  t.equal(await cli.main(['--config', 'c.json'], info), 1);
  t.equal(info.stderr.text, 'tap-gitlab: unexpected error: Headers.append: "[REDACTED]" is an invalid header value (run with --log-level debug for details)\n');
  const debug = fakeIo(t, files);
  t.equal(await cli.main(['--config', 'c.json', '--log-level', 'debug'], debug), 1);
  t.match(debug.stderr.text, /caused by: Error: sent \[REDACTED\], then "\[REDACTED\]", then \[REDACTED\] alone\n/);
  t.notMatch(debug.stderr.text, /AbCdEf|456789/, 'no piece of the token, stacks included');
});

t.test('a missing config file is named and exits 2', async (t) => {
  const io = fakeIo(t, {});
  t.equal(await main(['--config', 'missing.json'], io), 2);
  t.equal(io.stderr.text, 'tap-gitlab: The config file missing.json does not exist.\n');
});

t.test('several problems are one line, and debug adds the error code', async (t) => {
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_project_ids: '1', page_size: 0, start_date: 'soon' }) });
  t.equal(await main(['--config', 'c.json', '--log-level', 'debug'], io), 2);
  t.equal(
    io.stderr.text,
    'tap-gitlab: 2 problems in the config file c.json: start_date must be an RFC 3339 date-time such as "2024-01-31T00:00:00Z" or a date such as "2024-01-31", got the string "soon". page_size must be a whole number from 1 to 100 (a JSON number or a string like "100"), got the number 0.\n  code: CONFIG_INVALID\n',
  );
});

t.test('usage errors exit 2 with one line', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /^tap-gitlab: Unknown argument: bogus\. Run tap-gitlab --help for usage\.\n$/],
    [['--config', 'c.json', 'extra'], /^tap-gitlab: Unknown argument: extra\./],
    [['--about', '--format', 'xml'], /^tap-gitlab: Invalid values: Argument: format, Given: "xml", Choices: "text", "json", "markdown"\./],
    [['--log-level', 'loud', '--config', 'c.json'], /^tap-gitlab: Invalid values: Argument: log-level/],
    [[], /^tap-gitlab: Missing --config: give a config JSON file, or --config ENV/],
    [['--discover', '--test', '--config', 'c.json'], /^tap-gitlab: Choose one of --discover and --test, not both\.\n$/],
    [['--catalog', 'a.json', '--properties', 'b.json', '--config', 'c.json'], /^tap-gitlab: Give the catalog once/],
  ];
  for (const [argv, expected] of cases) {
    const io = fakeIo(t, {});
    t.equal(await main(argv, io), 2, argv.join(' '));
    t.match(io.stderr.text, expected, argv.join(' '));
    t.equal(io.stdout.text, '');
  }
});

t.test('--help and --version print on stdout and exit 0', async (t) => {
  const help = fakeIo(t, {});
  t.equal(await main(['--help'], help), 0);
  t.match(help.stdout.text, /^tap-gitlab --config CONFIG/);
  for (const flag of ['--config', '--state', '--catalog', '--properties', '--discover', '--about', '--format', '--test', '--list-projects', '--log-level']) {
    t.match(help.stdout.text, flag);
  }
  t.equal(help.stderr.text, '');
  const version = fakeIo(t, {});
  t.equal(await main(['--version'], version), 0);
  t.equal(version.stdout.text, `${VERSION}\n`);
});

t.test('--about prints text, JSON and Markdown without needing a config', async (t) => {
  const text = fakeIo(t, {});
  t.equal(await main(['--about'], text), 0);
  t.match(text.stdout.text, /^Name: tap-gitlab\nDescription: .*\nVersion: \d+\.\d+\.\d+\nCapabilities: catalog, discover, state, about, test\n/);

  const asJson = fakeIo(t, {});
  t.equal(await main(['--about', '--format', 'json'], asJson), 0);
  const about = JSON.parse(asJson.stdout.text) as { name: string; version: string; capabilities: string[]; settings: { properties: Record<string, { secret?: boolean; writeOnly?: boolean }> } };
  t.equal(about.name, 'tap-gitlab');
  t.equal(about.version, VERSION);
  t.same(about.capabilities, ['catalog', 'discover', 'state', 'about', 'test']);
  t.same(about.settings.properties.gitlab_token, { type: 'string', description: about.settings.properties.gitlab_token?.['description' as never], secret: true, writeOnly: true });

  const md = fakeIo(t, {});
  t.equal(await main(['--about', '--format', 'markdown', '--config', 'ignored.json'], md), 0, 'the config is not read for --about');
  t.ok(md.stdout.text.includes(settingsMarkdownTable()));
  t.match(md.stdout.text, /## Capabilities\n\n\* `catalog`\n\* `discover`\n\* `state`\n\* `about`\n\* `test`\n/);
});

t.test('--discover prints the catalog offline, with any config', async (t) => {
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: 12, page_size: 'lots' }) });
  t.equal(await main(['--discover', '--config', 'c.json'], io), 0);
  const catalog = JSON.parse(io.stdout.text) as { streams: Array<{ tap_stream_id: string }> };
  t.same(catalog.streams.map((s) => s.tap_stream_id).sort(), ['merge_requests', 'projects', 'users']);
  t.equal(io.stderr.text, '');

  const bare = fakeIo(t, {});
  t.equal(await main(['--discover'], bare), 0, 'no config needed');
  t.equal(bare.stdout.text, io.stdout.text);
});

/** main() with lib/sync.js replaced by a recorder; returns the options runSync got. */
async function syncWith(t: Test, argv: string[], io: CliIo, result: { exitCode: 0 | 1 } | Error = { exitCode: 0 }) {
  const calls: SyncOptions[] = [];
  const cli = await t.mockImport<typeof import('../lib/cli.js')>('../lib/cli.js', {
    '../lib/sync.js': {
      runSync: async (opts: SyncOptions) => {
        calls.push(opts);
        if (result instanceof Error) throw result;
        return result;
      },
    },
  });
  const code = await cli.main(argv, io);
  return { code, calls };
}

t.test('repeated --config files merge in order, later wins, aliases included', async (t) => {
  const io = fakeIo(t, {
    'base.json': json({ gitlab_token: 'glpat-old', gitlab_base_url: 'https://old.example.com', gitlab_project_ids: '1,2', page_size: 10 }),
    'override.json': json({ private_token: TOKEN, page_size: '20', sync_users_table: 'false' }),
  });
  const { code, calls } = await syncWith(t, ['--config', 'base.json', '--config', 'override.json'], io);
  t.equal(code, 0);
  t.equal(calls.length, 1);
  const config = calls[0]?.config;
  t.equal(config?.token, TOKEN);
  t.equal(config?.baseUrl, 'https://old.example.com');
  t.same(config?.projectIds, [1, 2]);
  t.equal(config?.pageSize, 20);
  t.same(calls[0]?.selections.map((s) => s.stream), ['projects', 'merge_requests'], 'the sync_*_table switches select streams');
  t.same(calls[0]?.state, { version: 1, bookmarks: {} }, 'no --state: an empty state');
});

t.test('--config ENV merges TAP_GITLAB_* variables at its position', async (t) => {
  const env = { TAP_GITLAB_GITLAB_TOKEN: TOKEN, TAP_GITLAB_START_DATE: '2024-05-01', TAP_GITLAB_PAGE_SIZE: '30', TAP_GITLAB_GITLAB_PROJECT_IDS: 'group/a, 7' };
  const files = { 'c.json': json({ gitlab_token: 'glpat-file', page_size: 50, max_retries: 2 }) };
  const after = await syncWith(t, ['--config', 'c.json', '--config', 'ENV'], fakeIo(t, files, { env }));
  t.equal(after.code, 0);
  t.equal(after.calls[0]?.config.token, TOKEN);
  t.equal(after.calls[0]?.config.startDate, '2024-05-01T00:00:00.000Z');
  t.equal(after.calls[0]?.config.pageSize, 30);
  t.equal(after.calls[0]?.config.maxRetries, 2);
  t.same(after.calls[0]?.config.projectIds, ['group/a', 7]);

  const before = await syncWith(t, ['--config', 'ENV', '--config', 'c.json'], fakeIo(t, files, { env }));
  t.equal(before.calls[0]?.config.token, 'glpat-file', 'a later file wins over ENV');
  t.equal(before.calls[0]?.config.pageSize, 50);

  const only = await syncWith(t, ['--config', 'ENV'], fakeIo(t, {}, { env: { TAP_GITLAB_PRIVATE_TOKEN: TOKEN, TAP_GITLAB_AUTO_DISCOVER_PROJECTS: 'yes' } }));
  t.equal(only.calls[0]?.config.token, TOKEN);
  t.equal(only.calls[0]?.config.autoDiscoverProjects, true);
});

t.test('sync mode wires state, catalog, the writer on stdout and the logger on stderr', async (t) => {
  const catalog = {
    streams: [
      { tap_stream_id: 'users', stream: 'users', schema: { type: 'object', properties: { id: { type: 'integer' } } }, key_properties: ['id'], metadata: [{ breadcrumb: [], metadata: { selected: true } }] },
    ],
  };
  const state = { version: 1, bookmarks: { merge_requests: { partitions: [{ context: { project_id: 1 }, replication_key: 'updated_at', replication_key_value: '2024-01-01T00:00:00.000Z' }] } } };
  const controller = new AbortController();
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_project_ids: '1', unknown_key: 1 }), 's.json': json(state), 'cat.json': json(catalog) }, { signal: controller.signal });
  const { code, calls } = await syncWith(t, ['--config', 'c.json', '--state', 's.json', '--properties', 'cat.json'], io, { exitCode: 1 });
  t.equal(code, 1, 'the summary exit code is returned');
  const opts = calls[0];
  t.ok(opts);
  if (!opts) return;
  t.same(opts.selections.map((s) => s.stream), ['users'], '--properties is the catalog');
  t.match(opts.state, state);
  t.equal(opts.signal, controller.signal);
  t.equal(opts.fetch, io.fetch);
  await opts.writer.writeState({ ok: true });
  t.equal(io.stdout.text, '{"type":"STATE","value":{"ok":true}}\n', 'the writer writes to io.stdout');
  opts.logger.info(`token is ${TOKEN}`);
  t.match(io.stderr.text, /WARN Ignoring unknown config key "unknown_key"\./);
  t.match(io.stderr.text, /INFO token is \[REDACTED\]/);
  t.notMatch(io.stderr.text, TOKEN);
});

t.test('errors from the sync are one line, with details and causes at debug', async (t) => {
  const { GitLabHttpError } = await import('../lib/errors.js');
  const err = new GitLabHttpError(
    { status: 401, method: 'GET', path: '/api/v4/projects/1', gitlabMessage: '401 Unauthorized', advice: 'Check gitlab_token.' },
    { cause: new Error(`request with ${TOKEN} failed`), details: 'response headers: none' },
  );
  const files = { 'c.json': json({ gitlab_token: TOKEN, gitlab_project_ids: '1' }) };
  const info = fakeIo(t, files);
  t.equal((await syncWith(t, ['--config', 'c.json'], info, err)).code, 1);
  t.equal(info.stderr.text, 'tap-gitlab: GitLab answered 401 to GET /api/v4/projects/1: 401 Unauthorized. Check gitlab_token.\n');

  const debug = fakeIo(t, files);
  t.equal((await syncWith(t, ['--config', 'c.json', '--log-level', 'debug'], debug, err)).code, 1);
  t.match(debug.stderr.text, /^tap-gitlab: GitLab answered 401.*\n  code: GITLAB_HTTP_401\n  response headers: none\n  caused by: Error: request with \[REDACTED\] failed\n/);
  t.notMatch(debug.stderr.text, TOKEN);

  const unknown = fakeIo(t, files);
  t.equal((await syncWith(t, ['--config', 'c.json'], unknown, new TypeError('x is not a function'))).code, 1);
  t.equal(unknown.stderr.text, 'tap-gitlab: unexpected error: x is not a function (run with --log-level debug for details)\n');
});

t.test('a bad state or catalog file exits 2 naming the file', async (t) => {
  const files = { 'c.json': json({ gitlab_token: TOKEN, gitlab_project_ids: '1' }), 'bad.json': '{"bookmarks": [' };
  const state = fakeIo(t, files);
  t.equal((await syncWith(t, ['--config', 'c.json', '--state', 'bad.json'], state)).code, 2);
  t.match(state.stderr.text, /^tap-gitlab: The state file bad\.json is not valid JSON: .* at line 1, column \d+\.\n$/);
  const catalog = fakeIo(t, files);
  t.equal((await syncWith(t, ['--config', 'c.json', '--catalog', 'nope.json'], catalog)).code, 2);
  t.equal(catalog.stderr.text, 'tap-gitlab: The catalog file nope.json does not exist.\n');
});

t.test('--test reports who the token belongs to and the GitLab version', async (t) => {
  const fm = fetchMock.createInstance();
  fm.route(`${BASE}/api/v4/user`, { id: 7, username: 'ada' });
  fm.route(`${BASE}/api/v4/version`, { version: '17.5.1-ee', revision: 'abc' });
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: BASE, gitlab_project_ids: '1' }) }, { fetch: fm.fetchHandler });
  t.equal(await main(['--config', 'c.json', '--test'], io), 0);
  t.equal(io.stderr.text, `Connected to ${BASE} as @ada (GitLab 17.5.1-ee)\n`);
  t.equal(io.stdout.text, '');
  t.same(fm.callHistory.calls().map((c) => c.url), [`${BASE}/api/v4/user`, `${BASE}/api/v4/version`]);
  const headers = new Headers(fm.callHistory.calls()[0]?.options.headers as HeadersInit);
  t.equal(headers.get('private-token'), TOKEN, 'the token travels in the header');
});

t.test('--test exits 1 with one line when the token is refused', async (t) => {
  const fm = fetchMock.createInstance();
  fm.route(`${BASE}/api/v4/user`, { status: 401, body: { message: '401 Unauthorized' } });
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: BASE, auto_discover_projects: true, max_retries: 0 }) }, { fetch: fm.fetchHandler });
  t.equal(await main(['--config', 'c.json', '--test'], io), 1);
  const lines = io.stderr.text.split('\n').filter((l) => l !== '' && !/ (DEBUG|INFO) /.test(l));
  t.equal(lines.length, 1);
  t.match(lines[0], /^tap-gitlab: GitLab answered 401 to GET /);
  t.notMatch(io.stderr.text, TOKEN);
});

t.test('a signal during --test stops it with "Stopped by a signal.", not an unexpected error', async (t) => {
  const controller = new AbortController();
  const hanging = (async (input: unknown, init?: RequestInit) => {
    setTimeout(() => controller.abort(), 5);
    const signal = input instanceof Request ? input.signal : init?.signal;
    return new Promise<Response>((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
    });
  }) as typeof fetch;
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: BASE, gitlab_project_ids: '1' }) }, { fetch: hanging, signal: controller.signal });
  t.equal(await main(['--config', 'c.json', '--test'], io), 1);
  t.equal(io.stderr.text.split('\n').filter((l) => l.startsWith('tap-gitlab:')).join('\n'), 'tap-gitlab: Stopped by a signal.');
  t.equal(io.stdout.text, '');
});

t.test('a signal while --test asks for the version stops it; it does not report a connection', async (t) => {
  const controller = new AbortController();
  const fetchFn = (async (input: unknown) => {
    const request = input as Request;
    if (request.url.endsWith('/user')) return new Response(JSON.stringify({ id: 7, username: 'ada' }), { status: 200, headers: { 'content-type': 'application/json' } });
    setTimeout(() => controller.abort(), 5);
    return new Promise<Response>((_resolve, reject) => {
      request.signal.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
    });
  }) as typeof fetch;
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: BASE, gitlab_project_ids: '1' }) }, { fetch: fetchFn, signal: controller.signal });
  t.equal(await main(['--config', 'c.json', '--test'], io), 1);
  t.notMatch(io.stderr.text, /Connected/);
  t.match(io.stderr.text, /tap-gitlab: Stopped by a signal\./);
});

t.test('--test against a JSON server that is not GitLab fails naming gitlab_base_url', async (t) => {
  const fm = fetchMock.createInstance();
  fm.route(`${BASE}/api/v4/user`, { body: { status: 'ok' } });
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_base_url: BASE, gitlab_project_ids: '1' }) }, { fetch: fm.fetchHandler });
  t.equal(await main(['--config', 'c.json', '--test'], io), 1);
  t.notMatch(io.stderr.text, /Connected/);
  t.match(io.stderr.text, /^tap-gitlab: GET \/user at https?:\/\/\S+ answered JSON that is not a GitLab user \(no numeric id and username\)\. Check gitlab_base_url/m);
});

t.test('--list-projects prints a table of selected and left-out projects', async (t) => {
  const seen: unknown[] = [];
  const cli = await t.mockImport<typeof import('../lib/cli.js')>('../lib/cli.js', {
    '../lib/discovery.js': {
      listProjects: async (ctx: { config: { projectNamePatterns: string[] }; state: unknown }) => {
        seen.push(ctx.config.projectNamePatterns, ctx.state);
        return {
          selected: [{ id: 42, path_with_namespace: 'acme/api', reason: 'matches "acme/*"' }],
          excluded: [
            { id: 7, path_with_namespace: 'acme/old', reason: 'archived' },
            { id: null, path_with_namespace: 'acme/missing', reason: 'GitLab answered 404' },
          ],
        };
      },
    },
  });
  const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, auto_discover_projects: true, project_name_pattern: 'acme/*' }) });
  t.equal(await cli.main(['--config', 'c.json', '--list-projects'], io), 0);
  t.same(seen, [['acme/*'], { version: 1, bookmarks: {} }]);
  t.equal(
    io.stdout.text,
    [
      'Would sync 1 project:',
      '  ID  PROJECT       REASON',
      '  42  acme/api      matches "acme/*"',
      '',
      'Left out 2 projects:',
      '  ID  PROJECT       REASON',
      '   7  acme/old      archived',
      '   -  acme/missing  GitLab answered 404',
      '',
    ].join('\n'),
  );
});

t.test('the project table says "none" for an empty section', async (t) => {
  t.equal(formatProjectTable([], []), 'Would sync 0 projects: none\n\nLeft out 0 projects: none\n');
});

t.test('an option given twice (other than --config) or a state or catalog without a file name exits 2, before anything runs', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--about', '--format', 'json', '--format', 'json'], /Give --format once/],
    [['--config', 'c.json', '--log-level', 'debug', '--log-level', 'warn'], /Give --log-level once/],
    [['--config', 'c.json', '--state', 'a.json', '--state', 'a.json'], /Give --state once/],
    [['--config', 'c.json', '--state', ''], /--state needs a file name/],
    [['--config', 'c.json', '--catalog', ' '], /--catalog needs a file name/],
  ];
  for (const [argv, message] of cases) {
    const io = fakeIo(t, { 'c.json': json({ gitlab_token: TOKEN, gitlab_project_ids: '1' }), 'a.json': '{}' });
    t.equal(await main(argv, io), 2, argv.join(' '));
    t.match(io.stderr.text, message);
    t.equal(io.stdout.text, '', 'nothing on stdout');
  }
});
