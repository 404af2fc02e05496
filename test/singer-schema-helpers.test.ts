import t from 'tap';
import { Compile } from 'typebox/compile';
import { date, dateTime, nullableArray, nullableBoolean, nullableInteger, nullableNumber, nullableObject, nullableString, plainSchema, recordSchema } from '../lib/singer/schema-helpers.js';
import { Type } from 'typebox';

t.test('nullable builders print Singer type lists, never anyOf', async (t) => {
  t.same(plainSchema(nullableString()), { type: ['null', 'string'] });
  t.same(plainSchema(nullableInteger()), { type: ['null', 'integer'] });
  t.same(plainSchema(nullableNumber()), { type: ['null', 'number'] });
  t.same(plainSchema(nullableBoolean()), { type: ['null', 'boolean'] });
  t.same(plainSchema(dateTime()), { type: ['null', 'string'], format: 'date-time' });
  t.same(plainSchema(date()), { type: ['null', 'string'], format: 'date' });
  t.same(plainSchema(nullableArray(Type.Integer())), { type: ['null', 'array'], items: { type: 'integer' } });
  t.same(plainSchema(nullableObject({ id: nullableInteger() })), { type: ['null', 'object'], properties: { id: { type: ['null', 'integer'] } } });
});

t.test('recordSchema requires only the keys and validates records with TypeBox', async (t) => {
  const s = recordSchema({ id: Type.Integer(), at: dateTime(), tags: nullableArray(Type.String()) }, ['id']);
  t.same(plainSchema(s), {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'integer' }, at: { type: ['null', 'string'], format: 'date-time' }, tags: { type: ['null', 'array'], items: { type: 'string' } } },
  });
  const check = Compile(s);
  t.ok(check.Check({ id: 1, at: null, tags: null }));
  t.ok(check.Check({ id: 1, at: '2024-05-01T10:00:00.000Z', tags: ['a'] }));
  t.notOk(check.Check({ id: 1, at: 'not a date', tags: null }));
  t.notOk(check.Check({ at: null }));
  t.notOk(check.Check({ id: 1, tags: [null] }), 'array items are not nullable');
});

t.test('plainSchema drops TypeBox internals', async (t) => {
  t.notOk(Object.getOwnPropertyNames(plainSchema(Type.String())).includes('~kind'));
});
