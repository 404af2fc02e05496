import t from 'tap';
import { GitLabResponseError } from '../lib/errors.js';
import { checkSchema, validateRecord } from '../lib/singer/schema-contract.js';
import { plainSchema } from '../lib/singer/schema-helpers.js';
import { projectSchema, toProjectRecord } from '../lib/streams/projects-schema.js';

/** A project as GET /projects/:id returns it to an Owner (secrets and settings included). */
const apiProject = {
  id: 4242,
  description: 'Données & tooling — ünïcødé 🚀',
  name: 'Data Pipeline',
  name_with_namespace: 'Acme Corp / Data Pipeline',
  path: 'data-pipeline',
  path_with_namespace: 'acme/data-pipeline',
  created_at: '2021-03-04T10:11:12.345+02:00',
  default_branch: 'main',
  tag_list: ['legacy'],
  topics: ['etl', 'singer'],
  ssh_url_to_repo: 'git@gitlab.example.com:acme/data-pipeline.git',
  http_url_to_repo: 'https://gitlab.example.com/acme/data-pipeline.git',
  web_url: 'https://gitlab.example.com/acme/data-pipeline',
  readme_url: 'https://gitlab.example.com/acme/data-pipeline/-/blob/main/README.md',
  forks_count: 3,
  avatar_url: null,
  star_count: 17,
  last_activity_at: '2024-05-01T07:00:00.000Z',
  namespace: { id: 77, name: 'Acme Corp', path: 'acme', kind: 'group', full_path: 'acme', parent_id: null, avatar_url: null, web_url: 'https://gitlab.example.com/groups/acme' },
  container_registry_image_prefix: 'registry.example.com/acme/data-pipeline',
  _links: { self: 'https://gitlab.example.com/api/v4/projects/4242' },
  empty_repo: false,
  archived: false,
  visibility: 'private',
  owner: { id: 1, username: 'root' },
  merge_requests_enabled: true,
  creator_id: 12,
  forked_from_project: { id: 99, name: 'upstream' },
  open_issues_count: 5,
  updated_at: '2024-05-01T09:12:55.12-01:00',
  marked_for_deletion_on: null,
  runners_token: 'GR1348941SECRETSECRET',
  permissions: { project_access: { access_level: 50 }, group_access: null },
  statistics: { commit_count: 10 },
};

t.test('maps a full owner-view project to exactly the schema keys with UTC timestamps', async (t) => {
  const rec = toProjectRecord(apiProject);
  t.same(rec, {
    id: 4242,
    name: 'Data Pipeline',
    name_with_namespace: 'Acme Corp / Data Pipeline',
    path: 'data-pipeline',
    path_with_namespace: 'acme/data-pipeline',
    description: 'Données & tooling — ünïcødé 🚀',
    visibility: 'private',
    archived: false,
    default_branch: 'main',
    topics: ['etl', 'singer'],
    created_at: '2021-03-04T08:11:12.345Z',
    updated_at: '2024-05-01T10:12:55.120Z',
    last_activity_at: '2024-05-01T07:00:00.000Z',
    marked_for_deletion_on: null,
    web_url: 'https://gitlab.example.com/acme/data-pipeline',
    http_url_to_repo: 'https://gitlab.example.com/acme/data-pipeline.git',
    ssh_url_to_repo: 'git@gitlab.example.com:acme/data-pipeline.git',
    readme_url: 'https://gitlab.example.com/acme/data-pipeline/-/blob/main/README.md',
    avatar_url: null,
    star_count: 17,
    forks_count: 3,
    open_issues_count: 5,
    empty_repo: false,
    creator_id: 12,
    forked_from_project_id: 99,
    merge_requests_enabled: true,
    namespace: { id: 77, name: 'Acme Corp', path: 'acme', kind: 'group', full_path: 'acme', parent_id: null, web_url: 'https://gitlab.example.com/groups/acme' },
  });
  t.same(Object.keys(rec), Object.keys(projectSchema.properties), 'keys in schema order, nothing extra');
  t.same(validateRecord(plainSchema(projectSchema), rec), [], 'the record satisfies its schema and the warehouse contract');
});

t.test('never lets secrets or unpicked fields through', async (t) => {
  const text = JSON.stringify(toProjectRecord(apiProject));
  t.notMatch(text, /SECRET/);
  for (const k of ['runners_token', 'permissions', 'statistics', 'owner', '_links', 'container_registry_image_prefix', 'tag_list']) {
    t.notOk(k in toProjectRecord(apiProject), k);
  }
});

t.test('fills every missing field with null (simple view, empty repository)', async (t) => {
  const rec = toProjectRecord({ id: 5, name: 'empty', path_with_namespace: 'me/empty', created_at: '2024-01-01T00:00:00Z', default_branch: '' });
  t.equal(rec.id, 5);
  t.equal(rec.default_branch, null, "'' default branch means none");
  t.equal(rec.updated_at, null);
  t.equal(rec.namespace, null);
  t.equal(rec.topics, null);
  t.equal(rec.forked_from_project_id, null);
  t.same(Object.keys(rec), Object.keys(projectSchema.properties));
  t.same(validateRecord(plainSchema(projectSchema), rec), []);
});

t.test("turns '' timestamps into null and keeps an empty description", async (t) => {
  const rec = toProjectRecord({ id: 6, description: '', updated_at: '', last_activity_at: null, marked_for_deletion_on: '2024-06-30' });
  t.equal(rec.description, '');
  t.equal(rec.updated_at, null);
  t.equal(rec.last_activity_at, null);
  t.equal(rec.marked_for_deletion_on, '2024-06-30');
});

t.test('falls back to tag_list and marked_for_deletion_at on older GitLab versions', async (t) => {
  const rec = toProjectRecord({ id: 7, tag_list: ['old'], marked_for_deletion_at: '2020-02-02' });
  t.same(rec.topics, ['old']);
  t.equal(rec.marked_for_deletion_on, '2020-02-02');
});

t.test('rejects objects that are not projects with a GitLabResponseError naming the field', async (t) => {
  t.throws(() => toProjectRecord(null), GitLabResponseError);
  t.throws(() => toProjectRecord([apiProject]), { message: /an array where a project object was expected/ });
  t.throws(() => toProjectRecord({ name: 'no id' }), { code: 'GITLAB_BAD_RESPONSE', message: /without an integer "id"/ });
  t.throws(() => toProjectRecord({ id: '42' }), { message: /without an integer "id" \(got the string "42"\)/ });
  t.throws(() => toProjectRecord({ id: 1, star_count: 'many' }), { message: /project 1 whose field "star_count" must be integer or null/ });
  t.throws(() => toProjectRecord({ id: 1, namespace: { id: 'x' } }), { message: /"namespace\.id"/ });
  t.throws(() => toProjectRecord({ id: 1, topics: ['ok', 3] }), { message: /"topics\[1\]"/ });
  t.throws(() => toProjectRecord({ id: 1, updated_at: 'last tuesday' }), { message: /project 1 with field "updated_at" that is not a timestamp/ });
  t.throws(() => toProjectRecord({ id: 1, marked_for_deletion_on: '2024-02-31' }), { message: /"marked_for_deletion_on" that is not a date/ });
});

t.test('the schema is Singer style: non-null integer key, nullable everything else', async (t) => {
  const s = plainSchema(projectSchema) as { properties: Record<string, { type: unknown; format?: string }>; required: string[] };
  t.same(s.properties.id, { type: 'integer' });
  t.same(s.required, ['id']);
  t.same(s.properties.updated_at, { type: ['null', 'string'], format: 'date-time' });
  t.same(s.properties.marked_for_deletion_on, { type: ['null', 'string'], format: 'date' });
  t.same(s.properties.topics, { type: ['null', 'array'], items: { type: 'string' } });
  t.same(checkSchema(s), []);
  for (const f of ['id', 'name', 'description', 'web_url', 'created_at', 'updated_at', 'visibility', 'default_branch', 'path_with_namespace', 'namespace', 'archived']) {
    t.ok(f in s.properties, `has ${f}`);
  }
  t.notOk('runners_token' in s.properties);
});
