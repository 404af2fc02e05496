import t from 'tap';
import { GitLabResponseError } from '../lib/errors.js';
import { checkSchema, validateRecord } from '../lib/singer/schema-contract.js';
import { plainSchema } from '../lib/singer/schema-helpers.js';
import { embeddedUsers, mergeRequestSchema, toMergeRequestRecord, toEmbeddedUser } from '../lib/streams/merge-requests-schema.js';

const user = (id: number, username: string, extra: Record<string, unknown> = {}) => ({
  id,
  username,
  name: `User ${username}`,
  state: 'active',
  locked: false,
  avatar_url: `https://secure.gravatar.com/avatar/${id}`,
  web_url: `https://gitlab.example.com/${username}`,
  ...extra,
});

/** A merged MR as GET /projects/:id/merge_requests lists it. */
const apiMr = {
  id: 90001,
  iid: 12,
  project_id: 4242,
  title: 'Résoudre le bug « naïf » 🐛',
  description: 'Line one\nLine two',
  state: 'merged',
  created_at: '2024-04-01T09:00:00.000+02:00',
  updated_at: '2024-04-03T12:30:45.678Z',
  merged_by: user(3, 'carol'),
  merge_user: user(3, 'carol'),
  merged_at: '2024-04-03T12:30:00.000Z',
  merge_after: null,
  prepared_at: '2024-04-01T07:00:05.000Z',
  closed_by: null,
  closed_at: null,
  target_branch: 'main',
  source_branch: 'fix/bug',
  user_notes_count: 4,
  upvotes: 2,
  downvotes: 0,
  author: user(1, 'alice'),
  assignees: [user(2, 'bob'), user(1, 'alice')],
  assignee: user(2, 'bob'),
  reviewers: [user(3, 'carol'), user(4, 'dan', { avatar_url: null })],
  source_project_id: 5555,
  target_project_id: 4242,
  labels: ['bug', 'priority::high'],
  draft: false,
  work_in_progress: false,
  milestone: { id: 700, iid: 3, project_id: 4242, title: 'v1.2', state: 'active', due_date: '2024-05-01' },
  merge_when_pipeline_succeeds: false,
  merge_status: 'can_be_merged',
  detailed_merge_status: 'not_open',
  sha: 'a1b2c3d4',
  merge_commit_sha: 'e5f6a7b8',
  squash_commit_sha: null,
  discussion_locked: null,
  should_remove_source_branch: true,
  force_remove_source_branch: true,
  prepared_at_extra: 'ignored',
  reference: '!12',
  references: { short: '!12', relative: '!12', full: 'acme/data-pipeline!12' },
  web_url: 'https://gitlab.example.com/acme/data-pipeline/-/merge_requests/12',
  time_stats: { time_estimate: 3600, total_time_spent: 1800, human_time_estimate: '1h', human_total_time_spent: '30m' },
  squash: false,
  squash_on_merge: false,
  task_completion_status: { count: 3, completed_count: 1 },
  has_conflicts: false,
  blocking_discussions_resolved: true,
  approvals_before_merge: null,
};

t.test('maps a merged MR from the list endpoint with people flattened to ids', async (t) => {
  const rec = toMergeRequestRecord(apiMr);
  t.same(rec, {
    id: 90001,
    iid: 12,
    project_id: 4242,
    target_project_id: 4242,
    source_project_id: 5555,
    title: 'Résoudre le bug « naïf » 🐛',
    description: 'Line one\nLine two',
    state: 'merged',
    draft: false,
    author_id: 1,
    assignee_id: 2,
    assignee_ids: [2, 1],
    reviewer_ids: [3, 4],
    merge_user_id: 3,
    closed_by_id: null,
    created_at: '2024-04-01T07:00:00.000Z',
    updated_at: '2024-04-03T12:30:45.678Z',
    merged_at: '2024-04-03T12:30:00.000Z',
    closed_at: null,
    prepared_at: '2024-04-01T07:00:05.000Z',
    merge_after: null,
    source_branch: 'fix/bug',
    target_branch: 'main',
    sha: 'a1b2c3d4',
    merge_commit_sha: 'e5f6a7b8',
    squash_commit_sha: null,
    labels: ['bug', 'priority::high'],
    milestone_id: 700,
    milestone_iid: 3,
    milestone_title: 'v1.2',
    merge_status: 'can_be_merged',
    detailed_merge_status: 'not_open',
    has_conflicts: false,
    blocking_discussions_resolved: true,
    merge_when_pipeline_succeeds: false,
    should_remove_source_branch: true,
    force_remove_source_branch: true,
    squash: false,
    discussion_locked: null,
    upvotes: 2,
    downvotes: 0,
    user_notes_count: 4,
    time_estimate: 3600,
    total_time_spent: 1800,
    task_completion_count: 3,
    task_completion_completed_count: 1,
    web_url: 'https://gitlab.example.com/acme/data-pipeline/-/merge_requests/12',
    reference: 'acme/data-pipeline!12',
  });
  t.same(Object.keys(rec), Object.keys(mergeRequestSchema.properties));
  t.same(validateRecord(plainSchema(mergeRequestSchema), rec), []);
});

t.test('maps a minimal view=simple MR: no people means null ids, not empty lists', async (t) => {
  const rec = toMergeRequestRecord({ id: 1, iid: 1, project_id: 2, title: 't', description: null, state: 'opened', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', web_url: 'u' });
  t.equal(rec.author_id, null);
  t.equal(rec.assignee_ids, null);
  t.equal(rec.reviewer_ids, null);
  t.equal(rec.labels, null);
  t.equal(rec.reference, null);
  t.equal(rec.time_estimate, null);
  t.same(validateRecord(plainSchema(mergeRequestSchema), rec), []);
});

t.test('an MR with no assignee at all has an empty assignee list', async (t) => {
  const rec = toMergeRequestRecord({ id: 1, assignee: null, assignees: [], reviewers: [] });
  t.equal(rec.assignee_id, null);
  t.same(rec.assignee_ids, []);
  t.same(rec.reviewer_ids, []);
});

t.test('uses the older fields GitLab sends before merge_user and draft existed', async (t) => {
  const rec = toMergeRequestRecord({ id: 2, merged_by: user(9, 'old'), work_in_progress: true, assignee: user(5, 'e') });
  t.equal(rec.merge_user_id, 9);
  t.equal(rec.draft, true);
  t.same(rec.assignee_ids, [5]);
  t.equal(rec.project_id, null);
  t.equal(toMergeRequestRecord({ id: 3, target_project_id: 8 }).project_id, 8, 'project_id falls back to target_project_id');
});

t.test('accepts label objects (with_labels_details) and keeps their names', async (t) => {
  const rec = toMergeRequestRecord({ id: 3, labels: [{ id: 1, name: 'bug', color: '#f00' }, 'docs'] });
  t.same(rec.labels, ['bug', 'docs']);
});

t.test('normalises offset timestamps and turns empty ones into null', async (t) => {
  const rec = toMergeRequestRecord({ id: 4, updated_at: '2024-04-03T14:30:45.678+02:00', merged_at: '', closed_at: '2024-04-03T00:00:00-05:00', sha: '' });
  t.equal(rec.updated_at, '2024-04-03T12:30:45.678Z');
  t.equal(rec.merged_at, null);
  t.equal(rec.closed_at, '2024-04-03T05:00:00.000Z');
  t.equal(rec.sha, null);
});

t.test('rejects malformed MRs with a GitLabResponseError naming the field', async (t) => {
  t.throws(() => toMergeRequestRecord('nope'), GitLabResponseError);
  t.throws(() => toMergeRequestRecord({ iid: 1 }), { message: /merge request without an integer "id"/ });
  t.throws(() => toMergeRequestRecord({ id: 5, author: { username: 'ghost' } }), { message: /merge request 5 without field "author\.id"/ });
  t.throws(() => toMergeRequestRecord({ id: 5, reviewers: [user(1, 'a'), { id: 'two' }] }), { message: /"reviewers\[1\]\.id" must be integer/ });
  t.throws(() => toMergeRequestRecord({ id: 5, labels: 'bug' }), { message: /"labels" must be array or null/ });
  t.throws(() => toMergeRequestRecord({ id: 5, draft: 'yes' }), { message: /"draft" must be boolean or null/ });
  t.throws(() => toMergeRequestRecord({ id: 5, created_at: '01/04/2024' }), { message: /merge request 5 with field "created_at"/ });
});

t.test('embeddedUsers collects every person once, in role order', async (t) => {
  const people = embeddedUsers(apiMr);
  t.same(
    people.map((u) => u.id),
    [1, 2, 3, 4],
  );
  t.same(people[3], { id: 4, username: 'dan', name: 'User dan', state: 'active', avatar_url: null, web_url: 'https://gitlab.example.com/dan', locked: false });
  t.same(
    embeddedUsers({ id: 1, closed_by: user(8, 'h'), merge_user: null, author: user(7, 'g', { state: 'blocked', locked: null }) }).map((u) => [u.id, u.state, u.locked]),
    [
      [7, 'blocked', null],
      [8, 'active', false],
    ],
  );
  t.same(embeddedUsers({ id: 1 }), []);
});

t.test('embeddedUsers fills fields GitLab omits with null and rejects users without an id', async (t) => {
  t.same(embeddedUsers({ id: 1, author: { id: 6 } }), [{ id: 6, username: null, name: null, state: null, avatar_url: null, web_url: null, locked: null }]);
  t.throws(() => embeddedUsers({ id: 1, assignees: [{ username: 'x' }] }), { message: /"assignees\[0\]\.id"/ });
  t.same(toEmbeddedUser({ id: 2, username: 'z', state: '' }).state, null);
});

t.test('the schema has every field warehouse users need and passes the contract', async (t) => {
  const s = plainSchema(mergeRequestSchema) as { properties: Record<string, unknown> };
  const need = 'id iid project_id target_project_id source_project_id title description state draft author_id assignee_id assignee_ids reviewer_ids merge_user_id closed_by_id created_at updated_at merged_at closed_at prepared_at source_branch target_branch sha merge_commit_sha squash_commit_sha labels milestone_id milestone_title detailed_merge_status has_conflicts upvotes downvotes user_notes_count web_url reference squash discussion_locked time_estimate total_time_spent';
  for (const f of need.split(' ')) t.ok(f in s.properties, f);
  t.same(s.properties.assignee_ids, { type: ['null', 'array'], items: { type: 'integer' } });
  t.same(checkSchema(s), []);
});

t.test('mapMergeRequest gives the same record and users as the two separate mappers, from one validation', async (t) => {
  const { mapMergeRequest, toMergeRequestRecord, embeddedUsers } = await import('../lib/streams/merge-requests-schema.js');
  const person = (id: number) => ({ id, username: `u${id}`, name: `U ${id}`, state: 'active', locked: false, avatar_url: null, web_url: `https://g/u${id}` });
  const raw = { id: 7, iid: 1, project_id: 3, title: 'x', updated_at: '2024-05-01T10:00:00+02:00', author: person(1), assignees: [person(2), person(1)], reviewers: [person(3)], closed_by: null };
  const both = mapMergeRequest(raw);
  t.same(both.record, toMergeRequestRecord(raw));
  t.same(both.users, embeddedUsers(raw));
  t.same(both.users.map((u) => u.id), [1, 2, 3]);
  t.throws(() => mapMergeRequest({ id: 8, author: { id: 'x' } }), { code: 'GITLAB_BAD_RESPONSE' });
});
