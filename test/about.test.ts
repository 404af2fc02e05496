import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import { aboutJson, renderAbout, settingsJsonSchema, settingsMarkdownTable } from '../lib/about.js';
import { configSettings } from '../lib/config.js';
import { VERSION } from '../lib/version.js';

interface PropSchema { type: string | string[]; description: string; default?: unknown; secret?: boolean; writeOnly?: boolean; enum?: string[]; minimum?: number; maximum?: number; format?: string; items?: unknown }

t.test('--about json lists name, version, capabilities and every setting with type, default and secrecy', async (t) => {
  const about = aboutJson() as { name: string; description: string; version: string; capabilities: string[]; settings: { type: string; properties: Record<string, PropSchema> } };
  t.equal(about.name, 'tap-gitlab');
  t.equal(about.version, VERSION);
  t.match(about.description, /GitLab/);
  t.same(about.capabilities, ['catalog', 'discover', 'state', 'about', 'test']);
  t.equal(about.settings.type, 'object');
  const names = configSettings.flatMap((s) => [s.name, ...s.aliases]);
  t.same(Object.keys(about.settings.properties), names, 'every name and alias, in order');
  t.same(about.settings.properties.gitlab_token, { type: 'string', description: configSettings[0]?.description, secret: true, writeOnly: true });
  t.same(about.settings.properties.private_token, { type: 'string', description: 'Alias of gitlab_token.', secret: true, writeOnly: true });
  t.same(about.settings.properties.page_size, { type: ['integer', 'string'], description: 'Items per GitLab API page (1 to 100).', minimum: 1, maximum: 100, default: 100 });
  t.same(about.settings.properties.user_enrichment?.enum, ['graphql', 'admin', 'per_user', 'none', ''], "'' is not set, as a blank form field sends");
  t.equal(about.settings.properties.start_date?.format, undefined, 'a date alone or no offset is taken too');
  t.same(about.settings.properties.gitlab_project_ids?.items, { type: ['integer', 'string'] });
  for (const [name, p] of Object.entries(about.settings.properties)) {
    if (name !== 'gitlab_token' && name !== 'private_token') t.notOk(p.secret, `${name} is not secret`);
  }
});

t.test('the settings JSON Schema requires the token under either name', async (t) => {
  const check = Compile(settingsJsonSchema() as never);
  t.ok(check.Check({ gitlab_token: 'x' }));
  t.ok(check.Check({ private_token: 'x', page_size: 10 }));
  t.notOk(check.Check({ page_size: 10 }));
  t.notOk(check.Check({ gitlab_token: 'x', page_size: 500 }));
});

t.test('the settings JSON Schema accepts the strings the tap takes (Fivetran, environment variables, the README)', async (t) => {
  const check = Compile(settingsJsonSchema() as never);
  const configs = [
    { gitlab_token: 'x', auto_discover_projects: 'true', max_projects_to_sync: '100', gitlab_project_ids: '4,5,6', page_size: '' },
    { gitlab_token: 'x', gitlab_project_ids: 'my-group/my-project, 42', start_date: '2024-01-01', sync_interval_hours: '1.5' },
    { gitlab_token: 'x', project_name_pattern: 'my-group/*, !my-group/sandbox-*', start_date: '2024-01-01T00:00:00' },
    { gitlab_token: 'x', gitlab_project_ids: [4, 'a/b'], include_private_projects: false, max_records_per_sync: 5000 },
  ];
  for (const c of configs) t.ok(check.Check(c), JSON.stringify(c));
  t.notOk(check.Check({ gitlab_token: 'x', auto_discover_projects: {} }), 'an object is still no boolean');
  t.ok(check.Check({ gitlab_token: 'x', gitlab_project_ids: '1', user_enrichment: '', gitlab_token_type: '', gitlab_base_url: '', api_url: ' https://gitlab.example.com ' }), 'blank settings (a Fivetran form) and a URL with spaces');
});

t.test('--about text names every setting, its type and default', async (t) => {
  const text = renderAbout('text');
  t.match(text, /^Name: tap-gitlab\n/);
  t.match(text, '  gitlab_token (alias private_token) [string, required, secret]\n');
  t.match(text, '  gitlab_base_url (alias api_url) [string, default https://gitlab.com]\n');
  t.match(text, '  user_agent [string, default tap-gitlab/<version>]\n');
  for (const s of configSettings) t.match(text, `  ${s.name}`);
});

t.test('--about markdown has the capabilities list and the settings table', async (t) => {
  const md = renderAbout('markdown');
  t.match(md, /\n## Capabilities\n\n\* `catalog`\n\* `discover`\n\* `state`\n\* `about`\n\* `test`\n/);
  const table = settingsMarkdownTable().split('\n');
  t.equal(table[0], '| Setting | Required | Default | Description |');
  t.equal(table.length, 2 + configSettings.length + configSettings.reduce((n, s) => n + s.aliases.length, 0));
  t.ok(table.includes('| gitlab_token | True | None | GitLab personal, group or project access token with the read_api scope. Alias: private_token. |'));
  t.ok(table.includes('| private_token | False | None | Alias of gitlab_token. |'));
  t.ok(table.includes('| project_name_pattern | False | * | Glob(s) for auto-discovery, matched case-insensitively against the project path or name (against group/path when the glob has a /); comma-separated or a list; a leading ! excludes. |'));
  t.ok(md.includes(settingsMarkdownTable()));
});

t.test('the README config table is the --about markdown table', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const lines = readme.split('\n');
  const start = lines.indexOf('| Setting | Required | Default | Description |');
  t.ok(start >= 0, 'the README has the table');
  let end = start;
  while (end < lines.length && lines[end]?.startsWith('|')) end++;
  t.equal(lines.slice(start, end).join('\n'), settingsMarkdownTable(), 'regenerate it with: node bin/tap-gitlab --about --format markdown');
});

t.test('an alias has no default in the JSON settings, so that a tool writing defaults does not set it beside its setting', async (t) => {
  const props = (settingsJsonSchema() as { properties: Record<string, { default?: unknown }> }).properties;
  t.equal(props.gitlab_base_url?.default, 'https://gitlab.com');
  t.notOk('default' in (props.api_url ?? {}), 'api_url');
  t.notOk('default' in (props.private_token ?? {}), 'private_token');
});

t.test("the README's resume recipe keeps the last complete STATE, and the old state when a run printed none", async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const recipe = readme.split('\n').find((l) => l.startsWith(`grep '^{"type":"STATE"' out.jsonl`));
  t.ok(recipe, 'the README has the recipe');
  const jq = spawnSync('jq', ['--version']);
  if (jq.error) {
    t.pass('jq is not installed here: the recipe is not run', { skip: true });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tap-gitlab-recipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (out: string): string => {
    writeFileSync(join(dir, 'out.jsonl'), out);
    spawnSync('bash', ['-c', recipe ?? 'false'], { cwd: dir });
    return readFileSync(join(dir, 'state.json'), 'utf8').trim();
  };
  writeFileSync(join(dir, 'state.json'), '{"old":1}\n');
  t.equal(run(''), '{"old":1}', 'a run that printed nothing leaves the state');
  t.equal(run('{"type":"RECORD","stream":"users","record":{"id":1}}\n'), '{"old":1}', 'nor does one with records and no STATE');
  const killed = '{"type":"STATE","value":{"a":1}}\n{"type":"RECORD","stream":"users","record":{"id":1}}\n{"type":"STATE","value":{"a":2}}\n{"type":"STATE","value":{"b":';
  t.equal(run(killed), '{"a":2}', 'a STATE line cut off by kill -9 is skipped');
});
