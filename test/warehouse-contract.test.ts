import t from 'tap';
import { readFileSync } from 'node:fs';
import { STREAMS } from '../lib/singer/catalog.js';
import { SQL_RESERVED_WORDS, checkSchema, validateRecord } from '../lib/singer/schema-contract.js';
import { plainSchema } from '../lib/singer/schema-helpers.js';

type FieldType = { type: unknown; format?: string };

/** `stream.field`, `stream.obj.field`, `stream.list[]` → type (and format) of every field. */
function flatten(): Record<string, FieldType> {
  const out: Record<string, FieldType> = {};
  const walk = (prefix: string, props: Record<string, Record<string, unknown>>): void => {
    for (const [k, v] of Object.entries(props)) {
      const name = `${prefix}${k}`;
      out[name] = typeof v.format === 'string' ? { type: v.type, format: v.format } : { type: v.type };
      if (v.properties) walk(`${name}.`, v.properties as Record<string, Record<string, unknown>>);
      if (v.items) out[`${name}[]`] = { type: (v.items as { type: unknown }).type };
    }
  };
  for (const def of STREAMS) walk(`${def.name}.`, plainSchema(def.schema).properties as Record<string, Record<string, unknown>>);
  return out;
}

t.test('every stream schema follows the warehouse-safe contract', async (t) => {
  for (const def of STREAMS) {
    t.same(checkSchema(plainSchema(def.schema), { keyProperties: def.keyProperties }), [], def.name);
    for (const k of def.keyProperties) t.same(plainSchema(def.schema).properties && (plainSchema(def.schema).properties as Record<string, unknown>)[k], { type: 'integer' }, `${def.name}.${k} is a non-null integer`);
  }
});

t.test('stream names are snake_case table names that are not reserved words', async (t) => {
  for (const def of STREAMS) {
    t.match(def.name, /^[a-z][a-z0-9_]*$/);
    t.notOk(SQL_RESERVED_WORDS.has(def.name), def.name);
  }
});

t.test('the checker rejects a deliberately broken schema, naming each problem', async (t) => {
  const broken = {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      order: { type: ['null', 'integer'] },
      userName: { type: ['null', 'string'] },
      '9lives': { type: ['null', 'string'] },
      mixed: { type: ['null', 'integer', 'string'] },
      either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      one: { oneOf: [{ type: 'string' }] },
      anything: {},
      untyped: { description: 'no type' },
      required_text: { type: 'string' },
      blob: { type: ['null', 'object'] },
      list: { type: ['null', 'array'] },
      list_of_any: { type: ['null', 'array'], items: {} },
      list_of_objects: { type: ['null', 'array'], items: { type: 'object', properties: { a: { type: 'string' } } } },
      merged_at: { type: ['null', 'string'] },
      due_on: { type: ['null', 'string'], format: 'date-time' },
      weird: { type: ['null', 'string'], format: 'email' },
      big: { type: ['null', 'bigint'] },
      deep: { type: ['null', 'object'], properties: { child: { type: ['null', 'object'], properties: { x: { type: ['null', 'string'] } } } } },
      user: { type: ['null', 'object'], properties: { key: { type: ['null', 'string'] } } },
    },
  };
  const problems = checkSchema(broken);
  const expect: Array<[string, RegExp]> = [
    ['order', /^order: name is an SQL reserved word$/],
    ['userName', /^userName: name is not snake_case/],
    ['9lives', /^9lives: name is not snake_case/],
    ['mixed', /^mixed: must have exactly one non-null type/],
    ['either', /^either: uses "anyOf"/],
    ['one', /^one: uses "oneOf"/],
    ['anything', /^anything: empty or non-object schema/],
    ['untyped', /^untyped: has no "type"/],
    ['required_text', /^required_text: must be nullable/],
    ['blob', /^blob: object without "properties"/],
    ['list', /^list\[\]: array without typed "items"/],
    ['list_of_any', /^list_of_any\[\]: array without typed "items"/],
    ['list_of_objects', /^list_of_objects\[\]: items must be a scalar type/],
    ['merged_at', /^merged_at: a timestamp name \(\*_at\) needs "format": "date-time"/],
    ['due_on', /^due_on: a date name .* needs "format": "date"/],
    ['weird', /^weird: unsupported format "email"/],
    ['big', /^big: unknown type "bigint"/],
    ['deep.child', /^deep\.child: objects may be nested one level only/],
    ['user', /^user: name is an SQL reserved word/],
    ['user.key', /^user\.key: name is an SQL reserved word/],
  ];
  for (const [what, re] of expect) t.ok(problems.some((p) => re.test(p)), `flags ${what}`);
  t.notOk(problems.some((p) => p.startsWith('id:')), 'a non-null integer key is fine');
  t.equal(problems.length, expect.length, `exactly the planted problems: ${problems.join(' | ')}`);
});

t.test('the checker rejects a top level that is not an object schema', async (t) => {
  t.same(checkSchema(null), ['the schema is not an object']);
  t.same(checkSchema({ type: 'array', items: { type: 'string' } }), ['the top level must have "type": "object", not "array"', 'the top level has no "properties"']);
  t.same(checkSchema({ type: 'object', anyOf: [], properties: { a: { type: ['null', 'string'] } } }), ['the top level uses "anyOf"']);
});

t.test('released fields never disappear or change type (additive changes only)', async (t) => {
  const released = JSON.parse(readFileSync(new URL('./fixtures/released-fields.json', import.meta.url), 'utf8')) as Record<string, FieldType>;
  const current = flatten();
  for (const [name, type] of Object.entries(released)) {
    t.ok(name in current, `released field ${name} still exists`);
    t.same(current[name], type, `released field ${name} keeps its type`);
  }
  for (const [name, type] of Object.entries(current)) {
    t.ok(name in released, `new field ${name}: add it to test/fixtures/released-fields.json`);
    if (!(name in released) && !name.endsWith('[]')) t.ok(Array.isArray(type.type) && (type.type as string[]).includes('null'), `new field ${name} is nullable`);
  }
});

t.test('validateRecord accepts a conforming record and names every problem of a bad one', async (t) => {
  const schema = plainSchema(STREAMS[1]!.schema);
  const good = { id: 1, title: 'ok', created_at: '2024-05-01T10:00:00.000Z', labels: ['a'], assignee_ids: [1, 2], draft: null };
  t.same(validateRecord(schema, good), []);
  const bad = validateRecord(schema, {
    id: 1.5,
    title: 7,
    created_at: '2024-05-01T12:00:00+02:00',
    updated_at: '',
    labels: [1],
    surprise: true,
  });
  const expect: RegExp[] = [/^\/id: must be integer/, /^\/title: /, /^\/created_at: date-time .* is not RFC 3339 UTC with "Z"/, /^\/updated_at: must match format "date-time"/, /^\/labels\/0: must be string/, /^\/surprise: field not declared in the schema/];
  for (const re of expect) t.ok(bad.some((p) => re.test(p)), `${String(re)} in ${bad.join(' | ')}`);
});

t.test('validateRecord checks dates and nested objects too', async (t) => {
  const projects = plainSchema(STREAMS[0]!.schema);
  t.same(validateRecord(projects, { id: 1, marked_for_deletion_on: '2024-06-30', namespace: { id: 2, kind: 'group' } }), []);
  const bad = validateRecord(projects, { id: 1, marked_for_deletion_on: '2024-06-30T00:00:00Z', namespace: { id: 'x', extra: 1 } });
  t.ok(bad.some((p) => /^\/marked_for_deletion_on: /.test(p)), bad.join(' | '));
  t.ok(bad.some((p) => /^\/namespace\/id: /.test(p)), bad.join(' | '));
  t.ok(bad.some((p) => /^\/namespace\/extra: field not declared/.test(p)), bad.join(' | '));
});
