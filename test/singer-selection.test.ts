import t from 'tap';
import { deselectedFields, isStreamSelected, type MetadataIndex } from '../lib/singer/selection.js';

const index = (entries: Array<[string[], Record<string, unknown>]>): MetadataIndex => new Map(entries.map(([c, m]) => [c.join('\u0000'), m]));
const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    title: { type: ['null', 'string'] },
    body: { type: ['null', 'string'] },
    namespace: { type: ['null', 'object'], properties: { id: { type: ['null', 'integer'] }, kind: { type: ['null', 'string'] } } },
  },
};

t.test('stream rules: no metadata selects, unsupported never, automatic always, then selected, then selected-by-default', async (t) => {
  t.equal(isStreamSelected(index([]), undefined), true, 'no metadata at all');
  t.equal(isStreamSelected(index([[[], { inclusion: 'unsupported', selected: true }]]), undefined), false);
  t.equal(isStreamSelected(index([[[], { inclusion: 'automatic', selected: false }]]), undefined), true);
  t.equal(isStreamSelected(index([[[], { selected: 'false', 'selected-by-default': true }]]), undefined), false);
  t.equal(isStreamSelected(index([[[], { selected: 'true' }]]), undefined), true);
  t.equal(isStreamSelected(index([[[], { 'selected-by-default': true }]]), undefined), true);
  t.equal(isStreamSelected(index([[[], { inclusion: 'available' }]]), undefined), false, 'nothing said: not selected');
  t.equal(isStreamSelected(index([[['properties', 'id'], { inclusion: 'automatic' }]]), undefined), false, 'field metadata alone does not select the stream');
});

t.test('legacy schema.selected applies when metadata says nothing about selection', async (t) => {
  t.equal(isStreamSelected(index([]), false), false);
  t.equal(isStreamSelected(index([[[], { inclusion: 'available' }]]), true), true);
  t.equal(isStreamSelected(index([[[], { selected: false }]]), true), false, 'metadata wins over the legacy flag');
});

t.test('field rules: explicit, by default, inherited, automatic and unsupported', async (t) => {
  t.same(deselectedFields(index([]), schema, ['id']), [], 'no metadata: everything');
  t.same(
    deselectedFields(
      index([
        [[], { selected: true }],
        [['properties', 'id'], { inclusion: 'available', selected: false }],
        [['properties', 'title'], { 'selected-by-default': false }],
        [['properties', 'body'], { inclusion: 'unsupported' }],
      ]),
      schema,
      ['id'],
    ),
    [
      ['properties', 'title'],
      ['properties', 'body'],
    ],
    'id is the tap’s key, so it stays; namespace inherits the stream',
  );
});

t.test('nested fields follow their parent and an object with no field left is dropped', async (t) => {
  t.same(
    deselectedFields(index([[[], { selected: true }], [['properties', 'namespace'], { selected: false }], [['properties', 'namespace', 'properties', 'id'], { selected: true }]]), schema, ['id']),
    [['properties', 'namespace']],
    'a deselected parent wins over a selected child',
  );
  t.same(
    deselectedFields(
      index([
        [[], { selected: true }],
        [['properties', 'namespace', 'properties', 'id'], { selected: false }],
        [['properties', 'namespace', 'properties', 'kind'], { selected: 'false' }],
      ]),
      schema,
      ['id'],
    ),
    [
      ['properties', 'namespace', 'properties', 'id'],
      ['properties', 'namespace', 'properties', 'kind'],
      ['properties', 'namespace'],
    ],
  );
});
