import t from 'tap';
import { parseMessage, parseMessages, recordMessage, schemaMessage, serializeMessage, stateMessage } from '../lib/singer/messages.js';

t.test('builds SCHEMA, RECORD and STATE messages in the Singer shape', async (t) => {
  t.same(schemaMessage('users', { type: 'object' }, ['id']), { type: 'SCHEMA', stream: 'users', schema: { type: 'object' }, key_properties: ['id'] });
  t.same(schemaMessage('users', { type: 'object' }, ['id'], []), { type: 'SCHEMA', stream: 'users', schema: { type: 'object' }, key_properties: ['id'] });
  t.same(schemaMessage('mr', { type: 'object' }, ['id'], ['updated_at']).bookmark_properties, ['updated_at']);
  t.same(recordMessage('users', { id: 1 }, new Date(Date.UTC(2024, 4, 1, 10))), {
    type: 'RECORD',
    stream: 'users',
    time_extracted: '2024-05-01T10:00:00.000Z',
    record: { id: 1 },
  });
  t.same(stateMessage({ a: 1 }), { type: 'STATE', value: { a: 1 } });
});

t.test('serialises one message per line even when values contain newlines and separators', async (t) => {
  const line = serializeMessage(recordMessage('s', { t: 'a\nb\r\u2028c' }, new Date(0)));
  t.equal(line.indexOf('\n'), line.length - 1, 'the only newline is the terminator');
  t.same(parseMessage(line.trimEnd()), recordMessage('s', { t: 'a\nb\r\u2028c' }, new Date(0)));
});

t.test('parseMessages reads a whole output and rejects lines that are not Singer messages', async (t) => {
  const text = [schemaMessage('s', { type: 'object' }, ['id']), recordMessage('s', { id: 1 }, new Date(0)), stateMessage({})].map(serializeMessage).join('') + '\n';
  t.same(
    parseMessages(text).map((m) => m.type),
    ['SCHEMA', 'RECORD', 'STATE'],
  );
  t.throws(() => parseMessage('{"type":"RECORD","stream":"s"}'), { name: 'TypeError', message: /not a Singer message/ });
  t.throws(() => parseMessage('{"type":"LOG"}'), TypeError);
  t.throws(() => parseMessage('INFO hello'), SyntaxError);
});
