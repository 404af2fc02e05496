import t from 'tap';
import { readFileSync } from 'node:fs';
import { Compile } from 'typebox/compile';
import { aboutJson, renderAbout, settingsJsonSchema, settingsMarkdownTable } from '../lib/about.js';
import { configSettings } from '../lib/config.js';
import { VERSION } from '../lib/version.js';

interface PropSchema { type: string; description: string; default?: unknown; secret?: boolean; writeOnly?: boolean; enum?: string[]; minimum?: number; maximum?: number; format?: string; items?: unknown }

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
  t.same(about.settings.properties.page_size, { type: 'integer', description: 'Items per GitLab API page (1 to 100).', minimum: 1, maximum: 100, default: 100 });
  t.same(about.settings.properties.user_enrichment?.enum, ['graphql', 'admin', 'per_user', 'none']);
  t.equal(about.settings.properties.start_date?.format, 'date-time');
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
