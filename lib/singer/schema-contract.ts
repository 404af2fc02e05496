/**
 * The warehouse-safe output contract (issue 6), as code: `checkSchema` lists every way a stream
 * schema breaks what BigQuery/Postgres/DuckDB targets accept; `validateRecord` checks a record
 * against its schema (types, formats, UTC `Z` timestamps, no extra fields). Both return a list of
 * problems, empty when all is well, so tests can assert on them and e2e runs can reuse them.
 */
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';

/**
 * Reserved words of SQL:2016 core, PostgreSQL, BigQuery and DuckDB that a column or table name
 * must not be (Fivetran's local DuckDB and pipelinewise targets break on them).
 */
export const SQL_RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'all alter analyse analyze and any array as asc assert_rows_modified asymmetric at authorization between binary both by ' +
    'case cast check collate collation column concurrently constraint contains create cross cube current current_catalog ' +
    'current_date current_role current_schema current_time current_timestamp current_user default deferrable define delete ' +
    'desc describe distinct do drop else end enum escape except exclude exists extract false fetch following for foreign ' +
    'freeze from full grant group grouping groups hash having if ignore ilike in initially inner insert intersect interval ' +
    'into is isnull join key lateral leading left like limit localtime localtimestamp lookup merge natural new no not notnull ' +
    'null nulls of offset on only or order outer over overlaps partition pivot placing preceding primary proto qualify range ' +
    'recursive references respect returning right rollup row rows select session_user set similar some struct symmetric ' +
    'table tablesample then to trailing treat true unbounded union unique unnest unpivot update user using values variadic ' +
    'verbose when where window with within'
  ).split(' '),
);

const SNAKE = /^[a-z_][a-z0-9_]*$/;
const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);
const FORBIDDEN_KEYWORDS = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'patternProperties'];

export interface CheckOptions {
  /** Top-level properties allowed to be non-nullable (default `['id']`). */
  keyProperties?: readonly string[];
}

/** Problems that make `schema` unsafe for warehouse targets; empty when it follows the contract. */
export function checkSchema(schema: unknown, opts: CheckOptions = {}): string[] {
  const keys = new Set(opts.keyProperties ?? ['id']);
  const problems: string[] = [];
  if (!isObject(schema)) return ['the schema is not an object'];
  if (schema.type !== 'object') problems.push(`the top level must have "type": "object", not ${JSON.stringify(schema.type)}`);
  for (const kw of FORBIDDEN_KEYWORDS) if (kw in schema) problems.push(`the top level uses "${kw}"`);
  if (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) {
    problems.push('the top level has no "properties"');
    return problems;
  }
  checkProperties(schema.properties, '', 0, keys, problems);
  return problems;
}

function checkProperties(props: Record<string, unknown>, prefix: string, depth: number, keys: Set<string>, problems: string[]): void {
  const seen = new Set<string>();
  for (const [name, sub] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (!SNAKE.test(name)) problems.push(`${path}: name is not snake_case [a-z0-9_] starting with a letter or underscore`);
    if (SQL_RESERVED_WORDS.has(name.toLowerCase())) problems.push(`${path}: name is an SQL reserved word`);
    if (seen.has(name.toLowerCase())) problems.push(`${path}: name collides case-insensitively with another property`);
    seen.add(name.toLowerCase());
    checkProperty(sub, path, name, depth, depth === 0 && keys.has(name), problems);
  }
}

function checkProperty(sub: unknown, path: string, name: string, depth: number, isKey: boolean, problems: string[]): void {
  if (!isObject(sub) || Object.keys(sub).length === 0) {
    problems.push(`${path}: empty or non-object schema`);
    return;
  }
  const forbidden = FORBIDDEN_KEYWORDS.filter((kw) => kw in sub);
  for (const kw of forbidden) problems.push(`${path}: uses "${kw}"`);
  const types = typeList(sub.type);
  if (types === null) {
    if (forbidden.length === 0) problems.push(`${path}: has no "type"`);
    return;
  }
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length !== 1) problems.push(`${path}: must have exactly one non-null type, has ${JSON.stringify(sub.type)}`);
  if (!isKey && !types.includes('null')) problems.push(`${path}: must be nullable ("type": ["null", …])`);
  const t = nonNull[0];
  if (t === 'object') {
    if (depth >= 1) problems.push(`${path}: objects may be nested one level only`);
    if (!isObject(sub.properties) || Object.keys(sub.properties).length === 0) problems.push(`${path}: object without "properties"`);
    else checkProperties(sub.properties, path, depth + 1, new Set(), problems);
  } else if (t === 'array') {
    checkItems(sub.items, path, problems);
  } else if (t !== undefined && !SCALARS.has(t)) {
    problems.push(`${path}: unknown type "${t}"`);
  }
  const format = sub.format;
  if (format !== undefined && format !== 'date-time' && format !== 'date') problems.push(`${path}: unsupported format ${JSON.stringify(format)}`);
  if ((format === 'date-time' || format === 'date') && t !== 'string') problems.push(`${path}: format "${String(format)}" needs type string`);
  if (/_at$/.test(name) && format !== 'date-time') problems.push(`${path}: a timestamp name (*_at) needs "format": "date-time"`);
  if (/(_on|_date)$/.test(name) && format !== 'date') problems.push(`${path}: a date name (*_on, *_date) needs "format": "date"`);
}

function checkItems(items: unknown, path: string, problems: string[]): void {
  const where = `${path}[]`;
  if (!isObject(items) || Object.keys(items).length === 0) {
    problems.push(`${where}: array without typed "items"`);
    return;
  }
  for (const kw of FORBIDDEN_KEYWORDS) if (kw in items) problems.push(`${where}: uses "${kw}"`);
  const types = typeList(items.type);
  const nonNull = (types ?? []).filter((t) => t !== 'null');
  if (nonNull.length !== 1) {
    problems.push(`${where}: items must have exactly one non-null type, have ${JSON.stringify(items.type)}`);
    return;
  }
  const t = nonNull[0] ?? '';
  if (!SCALARS.has(t)) problems.push(`${where}: items must be a scalar type, not "${t}"`);
}

function typeList(t: unknown): string[] | null {
  if (typeof t === 'string') return [t];
  if (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string')) return t as string[];
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const compiled = new WeakMap<object, Validator>();

/**
 * Problems of one record against its stream schema: JSON-schema types and formats (via TypeBox),
 * plus the contract's extras: every date-time in UTC with `Z`, dates `YYYY-MM-DD`, no field that
 * the schema does not declare, no `""` in a date-time.
 */
export function validateRecord(schema: object, record: unknown): string[] {
  let v = compiled.get(schema);
  if (!v) {
    v = Compile(schema as TSchema);
    compiled.set(schema, v);
  }
  const problems: string[] = [];
  if (!v.Check(record)) {
    for (const e of v.Errors(record)) {
      if (e.keyword === 'anyOf') continue;
      problems.push(`${e.instancePath || '(record)'}: ${e.message}`);
    }
  }
  if (isObject(record)) extras(schema as Record<string, unknown>, record, '', problems);
  return problems;
}

function extras(schema: Record<string, unknown>, value: Record<string, unknown>, prefix: string, problems: string[]): void {
  const props = isObject(schema.properties) ? schema.properties : {};
  for (const [name, v] of Object.entries(value)) {
    const path = `${prefix}/${name}`;
    const sub = props[name];
    if (!isObject(sub)) {
      problems.push(`${path}: field not declared in the schema`);
      continue;
    }
    if (typeof v === 'string' && sub.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v)) {
      problems.push(`${path}: date-time ${JSON.stringify(v)} is not RFC 3339 UTC with "Z"`);
    }
    if (typeof v === 'string' && sub.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(v)) {
      problems.push(`${path}: date ${JSON.stringify(v)} is not YYYY-MM-DD`);
    }
    if (isObject(v) && isObject(sub.properties)) extras(sub, v, path, problems);
  }
}
