/**
 * `--about`: what the tap is, its capabilities and its settings, as plain text (default), JSON
 * (Meltano Hub reads settings from it) or Markdown (the README's config table is this output).
 * Everything comes from `configSettings`, the one list of settings.
 */
import { configSettings, type ConfigSetting } from './config.js';
import { VERSION } from './version.js';

export type AboutFormat = 'text' | 'json' | 'markdown';

export const TAP_NAME = 'tap-gitlab';
export const TAP_DESCRIPTION = 'Singer tap that extracts GitLab projects, merge requests and users as JSON lines';
export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'test'] as const;

/** The settings as a JSON Schema object, secrets marked `secret` and `writeOnly`. */
export function settingsJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const s of configSettings) {
    properties[s.name] = propertySchema(s, s.description);
    // No default for an alias: a tool that writes defaults (Meltano) would set both names, and a user's value for one would conflict with the other's default.
    for (const alias of s.aliases) properties[alias] = propertySchema(s, `Alias of ${s.name}.`, false);
  }
  const required = configSettings.filter((s) => s.required);
  return {
    type: 'object',
    properties,
    // A required setting may be given under any of its names.
    allOf: required.map((s) => ({ anyOf: [s.name, ...s.aliases].map((n) => ({ required: [n] })) })),
  };
}

function propertySchema(s: ConfigSetting, description: string, withDefault = true): Record<string, unknown> {
  // What the tap takes, not only the JSON type it coerces to: booleans, numbers and lists may be strings ("true", "100",
  // "4,5,6"), as Fivetran and environment variables send them; a wrapper that validates against this must accept them.
  const p: Record<string, unknown> = { type: s.type === 'string' ? 'string' : [s.type, 'string'], description };
  if (s.type === 'array') p.items = { type: s.name === 'gitlab_project_ids' ? ['integer', 'string'] : 'string' };
  // No `format`: start_date takes more than JSON Schema's date-time (a date alone, no offset), and every setting but
  // the token may be blank (not set), which neither date-time nor uri allows. For the same reason an enum lists ''.
  if (s.enum) p.enum = s.secret ? [...s.enum] : [...s.enum, ''];
  if (s.minimum !== undefined) p.minimum = s.minimum;
  if (s.maximum !== undefined) p.maximum = s.maximum;
  if (withDefault && s.default !== null) p.default = s.default;
  if (s.secret) {
    p.secret = true;
    p.writeOnly = true;
  }
  return p;
}

/** The `--about --format json` document. */
export function aboutJson(): Record<string, unknown> {
  return {
    name: TAP_NAME,
    description: TAP_DESCRIPTION,
    version: VERSION,
    capabilities: [...CAPABILITIES],
    settings: settingsJsonSchema(),
  };
}

function defaultText(s: ConfigSetting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === null) return '';
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The `| Setting | Required | Default | Description |` table (aliases as their own rows). */
export function settingsMarkdownTable(): string {
  const rows = ['| Setting | Required | Default | Description |', '|---|---|---|---|'];
  for (const s of configSettings) {
    const def = defaultText(s);
    rows.push(`| ${s.name} | ${s.required ? 'True' : 'False'} | ${def === '' ? 'None' : cell(def)} | ${cell(s.description)} |`);
    for (const alias of s.aliases) rows.push(`| ${alias} | False | None | Alias of ${s.name}. |`);
  }
  return rows.join('\n');
}

/** Renders `--about` in the given format; always ends with a newline. */
export function renderAbout(format: AboutFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(aboutJson(), null, 2)}\n`;
    case 'markdown':
      return [
        `# \`${TAP_NAME}\``,
        '',
        TAP_DESCRIPTION,
        '',
        `Built with version ${VERSION}.`,
        '',
        '## Capabilities',
        '',
        ...CAPABILITIES.map((c) => `* \`${c}\``),
        '',
        '## Settings',
        '',
        settingsMarkdownTable(),
        '',
        'A full list of supported settings and capabilities is available by running: `tap-gitlab --about`',
        '',
      ].join('\n');
    case 'text': {
      const lines = [`Name: ${TAP_NAME}`, `Description: ${TAP_DESCRIPTION}`, `Version: ${VERSION}`, `Capabilities: ${CAPABILITIES.join(', ')}`, 'Settings:'];
      for (const s of configSettings) {
        const def = defaultText(s);
        const flags = [s.type, s.required ? 'required' : null, s.secret ? 'secret' : null, def === '' ? null : `default ${def}`].filter((x) => x !== null);
        lines.push(`  ${s.name}${s.aliases.length > 0 ? ` (alias ${s.aliases.join(', ')})` : ''} [${flags.join(', ')}]`);
        lines.push(`      ${s.description}`);
      }
      return `${lines.join('\n')}\n`;
    }
  }
}
