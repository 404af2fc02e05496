/**
 * The Meltano plugin definition (meltano/tap-gitlab.yml) and the example project's inline
 * extractor (meltano/meltano.yml) must describe exactly the tap's settings (lib/config.ts) and
 * capabilities (lib/about.ts): same names and aliases, a Meltano kind that matches the type,
 * the same defaults and descriptions, and `sensitive: true` exactly for secrets.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { configSettings, knownConfigKeys, type ConfigSetting } from '../lib/config.js';
import { CAPABILITIES } from '../lib/about.js';
import { VERSION } from '../lib/version.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readYaml = (rel: string): Record<string, unknown> => parse(readFileSync(root + rel, 'utf8')) as Record<string, unknown>;

interface MeltanoSetting {
  name: string;
  aliases?: string[];
  label?: string;
  kind?: string;
  options?: Array<{ label: string; value: string }>;
  value?: unknown;
  sensitive?: boolean;
  description?: string;
}

/** The Meltano kind a setting should have. Numbers are `string`: Meltano's `integer` kind would int() "0.5". */
function expectedKind(s: ConfigSetting): string {
  if (s.enum) return 'options';
  if (s.format === 'date-time') return 'date_iso8601';
  return { string: 'string', boolean: 'boolean', integer: 'integer', number: 'string', array: 'array' }[s.type];
}

/** A default may be left out of the definition when it is empty or depends on the version. */
function defaultMayBeOmitted(s: ConfigSetting): boolean {
  return s.default === null || (Array.isArray(s.default) && s.default.length === 0) ||
    (typeof s.default === 'string' && s.default.includes(VERSION));
}

/** Every way `defs` disagrees with `settings`, one sentence each (empty when they agree). */
function compareSettings(defs: readonly MeltanoSetting[], settings: readonly ConfigSetting[]): string[] {
  const problems: string[] = [];
  const byName = new Map(defs.map((d) => [d.name, d]));
  if (byName.size !== defs.length) problems.push('a setting is listed twice');
  for (const s of settings) {
    const d = byName.get(s.name);
    if (!d) {
      problems.push(`${s.name}: missing`);
      continue;
    }
    if (d.kind !== expectedKind(s)) problems.push(`${s.name}: kind ${String(d.kind)}, expected ${expectedKind(s)}`);
    if (s.enum && JSON.stringify((d.options ?? []).map((o) => o.value)) !== JSON.stringify(s.enum)) {
      problems.push(`${s.name}: options differ from ${s.enum.join(', ')}`);
    }
    if ((d.sensitive === true) !== s.secret) problems.push(`${s.name}: sensitive should be ${s.secret}`);
    if (JSON.stringify(d.aliases ?? []) !== JSON.stringify(s.aliases)) problems.push(`${s.name}: aliases differ`);
    if (!d.label) problems.push(`${s.name}: no label`);
    if (d.description !== s.description) problems.push(`${s.name}: description differs from lib/config.ts`);
    if (d.value === undefined) {
      if (!defaultMayBeOmitted(s)) problems.push(`${s.name}: default ${JSON.stringify(s.default)} not given as value`);
    } else if (JSON.stringify(d.value) !== JSON.stringify(s.default)) {
      problems.push(`${s.name}: value ${JSON.stringify(d.value)}, expected ${JSON.stringify(s.default)}`);
    }
  }
  const names = new Set(settings.map((s) => s.name));
  for (const d of defs) if (!names.has(d.name)) problems.push(`${d.name}: not a setting of the tap`);
  return problems;
}

const definition = readYaml('meltano/tap-gitlab.yml');
const project = readYaml('meltano/meltano.yml');
const plugins = project.plugins as { extractors: Array<Record<string, unknown>>; loaders: Array<Record<string, unknown>> };
const extractor = plugins.extractors.find((p) => p.name === 'tap-gitlab');

t.test('the plugin definition lists every setting of the tap with matching kind, default and secrecy', async (t) => {
  t.same(compareSettings(definition.settings as MeltanoSetting[], configSettings), []);
  t.equal((definition.settings as MeltanoSetting[]).length, configSettings.length);
});

t.test('the plugin definition declares the capabilities --about reports', async (t) => {
  t.same(definition.capabilities, [...CAPABILITIES]);
  t.match(definition, { name: 'tap-gitlab', namespace: 'tap_gitlab', executable: 'tap-gitlab' });
  t.notOk('pip_url' in definition, 'a Node tap has no pip package');
});

t.test('settings_group_validation requires the required settings', async (t) => {
  t.same(definition.settings_group_validation, [configSettings.filter((s) => s.required).map((s) => s.name)]);
});

t.test('the example meltano.yml inlines the same extractor definition', async (t) => {
  t.ok(extractor, 'meltano.yml has a tap-gitlab extractor');
  if (!extractor) return;
  t.same(compareSettings(extractor.settings as MeltanoSetting[], configSettings), []);
  t.same(extractor.capabilities, [...CAPABILITIES]);
  t.same(extractor.settings_group_validation, definition.settings_group_validation);
  t.equal(extractor.namespace, definition.namespace);
});

t.test('the example config uses only known keys and carries no token', async (t) => {
  const config = (extractor?.config ?? {}) as Record<string, unknown>;
  t.same(Object.keys(config).filter((k) => !knownConfigKeys.includes(k)), []);
  const secrets = configSettings.filter((s) => s.secret).flatMap((s) => [s.name, ...s.aliases]);
  t.same(Object.keys(config).filter((k) => secrets.includes(k)), []);
});

t.test('the example project loads into target-bigquery with upserts on the key', async (t) => {
  const bq = plugins.loaders.find((p) => p.name === 'target-bigquery');
  t.match(bq, { variant: 'z3z1ma', config: { denormalized: true, upsert: true } });
  t.match(project.jobs, [{ tasks: ['tap-gitlab target-bigquery'] }]);
});

t.test('the comparison reports a missing, extra, mistyped or non-sensitive setting', async (t) => {
  const good = definition.settings as MeltanoSetting[];
  const broken: MeltanoSetting[] = good
    .filter((d) => d.name !== 'start_date')
    .map((d) => (d.name === 'page_size' ? { ...d, kind: 'string' } : d.name === 'gitlab_token' ? { ...d, sensitive: false } : d));
  broken.push({ name: 'fetch_pipelines', kind: 'boolean', label: 'x', description: 'x' });
  t.same(compareSettings(broken, configSettings).sort(), [
    'fetch_pipelines: not a setting of the tap',
    'gitlab_token: sensitive should be true',
    'page_size: kind string, expected integer',
    'start_date: missing',
  ]);
  const wrongDefault = good.map((d) => (d.name === 'max_retries' ? { ...d, value: 3 } : d));
  t.same(compareSettings(wrongDefault, configSettings), ['max_retries: value 3, expected 8']);
});
