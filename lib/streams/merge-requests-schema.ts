/**
 * The `merge_requests` stream: its Singer schema, the mapper from GitLab's MR list JSON
 * (GET /projects/:id/merge_requests), and the embedded users the `users` stream is built from.
 * People are flattened to ids (`author_id`, `reviewer_ids`, …): the users themselves go to `users`.
 */
import { Type, type Static } from 'typebox';
import {
  dateTime,
  nullableArray,
  nullableBoolean,
  nullableInteger,
  nullableString,
  recordSchema,
} from '../singer/schema-helpers.js';
import {
  blankToNull,
  orNull,
  rawArray,
  rawBoolean,
  rawInteger,
  rawObject,
  rawReader,
  rawString,
  rawUserProps,
  tsField,
} from '../singer/raw-input.js';

/** Singer schema of a `merge_requests` record. */
export const mergeRequestSchema = recordSchema(
  {
    id: Type.Integer(),
    iid: nullableInteger(),
    project_id: nullableInteger(),
    target_project_id: nullableInteger(),
    source_project_id: nullableInteger(),
    title: nullableString(),
    description: nullableString(),
    state: nullableString(),
    draft: nullableBoolean(),
    author_id: nullableInteger(),
    assignee_id: nullableInteger(),
    assignee_ids: nullableArray(Type.Integer()),
    reviewer_ids: nullableArray(Type.Integer()),
    merge_user_id: nullableInteger(),
    closed_by_id: nullableInteger(),
    created_at: dateTime(),
    updated_at: dateTime(),
    merged_at: dateTime(),
    closed_at: dateTime(),
    prepared_at: dateTime(),
    merge_after: dateTime(),
    source_branch: nullableString(),
    target_branch: nullableString(),
    sha: nullableString(),
    merge_commit_sha: nullableString(),
    squash_commit_sha: nullableString(),
    labels: nullableArray(Type.String()),
    milestone_id: nullableInteger(),
    milestone_iid: nullableInteger(),
    milestone_title: nullableString(),
    merge_status: nullableString(),
    detailed_merge_status: nullableString(),
    has_conflicts: nullableBoolean(),
    blocking_discussions_resolved: nullableBoolean(),
    merge_when_pipeline_succeeds: nullableBoolean(),
    should_remove_source_branch: nullableBoolean(),
    force_remove_source_branch: nullableBoolean(),
    squash: nullableBoolean(),
    discussion_locked: nullableBoolean(),
    upvotes: nullableInteger(),
    downvotes: nullableInteger(),
    user_notes_count: nullableInteger(),
    time_estimate: nullableInteger(),
    total_time_spent: nullableInteger(),
    task_completion_count: nullableInteger(),
    task_completion_completed_count: nullableInteger(),
    web_url: nullableString(),
    reference: nullableString(),
  },
  ['id'],
);

/** A `merge_requests` record: every schema key present, null when GitLab did not say. */
export type MergeRequestRecord = Static<typeof mergeRequestSchema>;

/** A user as GitLab embeds it in a merge request (UserBasic). */
export interface EmbeddedUser {
  id: number;
  username: string | null;
  name: string | null;
  state: string | null;
  avatar_url: string | null;
  web_url: string | null;
  locked: boolean | null;
}

const user = () => rawObject(rawUserProps);
const readEmbedded = rawReader('user', rawUserProps);
const users = () => rawArray(rawUserObject());

type RawMergeRequest = ReturnType<typeof readMergeRequest.read>;
type RawUser = Static<ReturnType<typeof rawUserObject>>;
const rawUserObject = () => Type.Object(rawUserProps);

/** The users GitLab embeds in a merge request, read the same way for the record and for the users stream. */
const peopleProps = {
  author: user(),
  assignee: user(),
  assignees: users(),
  reviewers: users(),
  merge_user: user(),
  merged_by: user(),
  closed_by: user(),
};

const readMergeRequest = rawReader('merge request', {
  id: Type.Integer(),
  iid: rawInteger(),
  project_id: rawInteger(),
  target_project_id: rawInteger(),
  source_project_id: rawInteger(),
  title: rawString(),
  description: rawString(),
  state: rawString(),
  draft: rawBoolean(),
  work_in_progress: rawBoolean(),
  ...peopleProps,
  created_at: rawString(),
  updated_at: rawString(),
  merged_at: rawString(),
  closed_at: rawString(),
  prepared_at: rawString(),
  merge_after: rawString(),
  source_branch: rawString(),
  target_branch: rawString(),
  sha: rawString(),
  merge_commit_sha: rawString(),
  squash_commit_sha: rawString(),
  // With `with_labels_details=true` GitLab sends label objects instead of names.
  labels: rawArray(Type.Union([Type.String(), Type.Object({ name: Type.String() })])),
  milestone: rawObject({ id: rawInteger(), iid: rawInteger(), title: rawString() }),
  merge_status: rawString(),
  detailed_merge_status: rawString(),
  has_conflicts: rawBoolean(),
  blocking_discussions_resolved: rawBoolean(),
  merge_when_pipeline_succeeds: rawBoolean(),
  should_remove_source_branch: rawBoolean(),
  force_remove_source_branch: rawBoolean(),
  squash: rawBoolean(),
  discussion_locked: rawBoolean(),
  upvotes: rawInteger(),
  downvotes: rawInteger(),
  user_notes_count: rawInteger(),
  time_stats: rawObject({ time_estimate: rawInteger(), total_time_spent: rawInteger() }),
  task_completion_status: rawObject({ count: rawInteger(), completed_count: rawInteger() }),
  web_url: rawString(),
  references: rawObject({ short: rawString(), relative: rawString(), full: rawString() }),
});

/**
 * Maps one GitLab merge request object to a `merge_requests` record: validates it
 * (GitLabResponseError naming the field), normalises timestamps to UTC `Z`, flattens people to
 * ids and returns exactly the schema's keys.
 */
export function toMergeRequestRecord(raw: unknown): MergeRequestRecord {
  return recordOf(readMergeRequest.read(raw));
}

/**
 * One merge request validated once, as its record and the users it names: what the sync calls
 * for every merge request (the two functions above and below validate separately).
 */
export function mapMergeRequest(raw: unknown): { record: MergeRequestRecord; users: EmbeddedUser[] } {
  const m = readMergeRequest.read(raw);
  return { record: recordOf(m), users: peopleOf(m) };
}

function recordOf(m: RawMergeRequest): MergeRequestRecord {
  const ts = (field: string, v: unknown): string | null => tsField('merge request', m.id, field, v);
  const ids = (list: Array<{ id: number }> | null | undefined): number[] | null => (list ? list.map((u) => u.id) : null);
  return {
    id: m.id,
    iid: orNull(m.iid),
    project_id: m.project_id ?? m.target_project_id ?? null,
    target_project_id: orNull(m.target_project_id),
    source_project_id: orNull(m.source_project_id),
    title: orNull(m.title),
    description: orNull(m.description),
    state: blankToNull(m.state),
    draft: m.draft ?? m.work_in_progress ?? null,
    author_id: m.author?.id ?? null,
    assignee_id: m.assignee?.id ?? m.assignees?.[0]?.id ?? null,
    assignee_ids: ids(m.assignees) ?? (m.assignee ? [m.assignee.id] : m.assignee === null ? [] : null),
    reviewer_ids: ids(m.reviewers),
    merge_user_id: m.merge_user?.id ?? m.merged_by?.id ?? null,
    closed_by_id: m.closed_by?.id ?? null,
    created_at: ts('created_at', m.created_at),
    updated_at: ts('updated_at', m.updated_at),
    merged_at: ts('merged_at', m.merged_at),
    closed_at: ts('closed_at', m.closed_at),
    prepared_at: ts('prepared_at', m.prepared_at),
    merge_after: ts('merge_after', m.merge_after),
    source_branch: orNull(m.source_branch),
    target_branch: orNull(m.target_branch),
    sha: blankToNull(m.sha),
    merge_commit_sha: blankToNull(m.merge_commit_sha),
    squash_commit_sha: blankToNull(m.squash_commit_sha),
    labels: m.labels ? m.labels.map((l) => (typeof l === 'string' ? l : l.name)) : null,
    milestone_id: m.milestone?.id ?? null,
    milestone_iid: m.milestone?.iid ?? null,
    milestone_title: m.milestone?.title ?? null,
    merge_status: blankToNull(m.merge_status),
    detailed_merge_status: blankToNull(m.detailed_merge_status),
    has_conflicts: orNull(m.has_conflicts),
    blocking_discussions_resolved: orNull(m.blocking_discussions_resolved),
    merge_when_pipeline_succeeds: orNull(m.merge_when_pipeline_succeeds),
    should_remove_source_branch: orNull(m.should_remove_source_branch),
    force_remove_source_branch: orNull(m.force_remove_source_branch),
    squash: orNull(m.squash),
    discussion_locked: orNull(m.discussion_locked),
    upvotes: orNull(m.upvotes),
    downvotes: orNull(m.downvotes),
    user_notes_count: orNull(m.user_notes_count),
    time_estimate: m.time_stats?.time_estimate ?? null,
    total_time_spent: m.time_stats?.total_time_spent ?? null,
    task_completion_count: m.task_completion_status?.count ?? null,
    task_completion_completed_count: m.task_completion_status?.completed_count ?? null,
    web_url: blankToNull(m.web_url),
    reference: blankToNull(m.references?.full),
  };
}

const readPeople = rawReader('merge request', { id: Type.Integer(), ...peopleProps });

/**
 * The users embedded in one merge request — author, assignee, assignees, reviewers, merge_user,
 * merged_by, closed_by — in that order, each id once (the first occurrence wins).
 */
export function embeddedUsers(raw: unknown): EmbeddedUser[] {
  return peopleOf(readPeople.read(raw));
}

type People = Pick<RawMergeRequest, 'author' | 'assignee' | 'assignees' | 'reviewers' | 'merge_user' | 'merged_by' | 'closed_by'>;

function peopleOf(m: People): EmbeddedUser[] {
  const seen = new Map<number, EmbeddedUser>();
  const candidates = [m.author, m.assignee, ...(m.assignees ?? []), ...(m.reviewers ?? []), m.merge_user, m.merged_by, m.closed_by];
  for (const u of candidates) {
    if (u === null || u === undefined || seen.has(u.id)) continue;
    seen.set(u.id, embeddedOf(u));
  }
  return [...seen.values()];
}

/** Validates one embedded user object (e.g. from /projects/:id/users) as an EmbeddedUser. */
export function toEmbeddedUser(raw: unknown): EmbeddedUser {
  return embeddedOf(readEmbedded.read(raw));
}

function embeddedOf(u: RawUser): EmbeddedUser {
  return {
    id: u.id,
    username: orNull(u.username),
    name: orNull(u.name),
    state: blankToNull(u.state),
    avatar_url: blankToNull(u.avatar_url),
    web_url: blankToNull(u.web_url),
    locked: orNull(u.locked),
  };
}

