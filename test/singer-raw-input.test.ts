import t from 'tap';
import { Type } from 'typebox';
import { GitLabResponseError } from '../lib/errors.js';
import { blankToNull, dateField, orNull, rawInteger, rawReader, rawString, tsField } from '../lib/singer/raw-input.js';

const reader = rawReader('widget', { id: Type.Integer(), name: rawString(), size: rawInteger(), owner: Type.Optional(Type.Object({ id: Type.Integer() })) });

t.test('returns valid objects as they are, extra fields included', async (t) => {
  const v = { id: 1, name: null, extra: { deep: true } };
  t.equal(reader.read(v), v);
});

t.test('explains what is wrong with the object, naming the entity, its id and the field', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['text', /^GitLab sent the string "text" where a widget object was expected\.$/],
    [7, /^GitLab sent number 7 where a widget object was expected\.$/],
    [{}, /^GitLab sent a widget without an integer "id" \(got nothing\)\.$/],
    [{ id: 2.5 }, /without an integer "id" \(got number 2\.5\)/],
    [{ id: 3, size: '10' }, /^GitLab sent a widget 3 whose field "size" must be integer or null \(got the string "10"\)\.$/],
    [{ id: 3, name: { first: 'x' } }, /"name" must be string or null \(got an object\)/],
    [{ id: 3, owner: {} }, /^GitLab sent a widget 3 without field "owner\.id"\.$/],
    [{ id: 3, name: 'x'.repeat(100), size: [1] }, /"size" must be integer or null \(got an array\)/],
  ];
  for (const [input, re] of cases) {
    t.throws(() => reader.read(input), GitLabResponseError);
    t.throws(() => reader.read(input), { code: 'GITLAB_BAD_RESPONSE', message: re }, String(re));
  }
});

t.test('field converters name the field on bad timestamps and dates', async (t) => {
  t.equal(tsField('widget', 1, 'at', '2024-01-01T01:00:00+01:00'), '2024-01-01T00:00:00.000Z');
  t.equal(dateField('widget', 1, 'on', ''), null);
  t.throws(() => tsField('widget', 1, 'at', 5), { message: /^GitLab sent widget 1 with field "at" that is not a timestamp: expected a timestamp string, got a number\.$/ });
  t.throws(() => dateField('widget', 1, 'on', 'x'), { message: /field "on" that is not a date/ });
});

t.test('orNull and blankToNull', async (t) => {
  t.equal(orNull(undefined), null);
  t.equal(orNull(0), 0);
  t.equal(orNull(''), '');
  t.equal(blankToNull(''), null);
  t.equal(blankToNull('  '), null);
  t.equal(blankToNull(undefined), null);
  t.equal(blankToNull('x'), 'x');
});
