/**
 * The `projects` stream: its Singer schema and the mapper from GitLab's project JSON
 * (GET /projects, GET /projects/:id). Fields are picked one by one — never spread — so owner-only
 * settings and secrets such as `runners_token` can never reach a record.
 */
import { Type, type Static } from 'typebox';
import {
  date,
  dateTime,
  nullableArray,
  nullableBoolean,
  nullableInteger,
  nullableObject,
  nullableString,
  recordSchema,
} from '../singer/schema-helpers.js';
import {
  blankToNull,
  dateField,
  orNull,
  rawArray,
  rawBoolean,
  rawInteger,
  rawObject,
  rawReader,
  rawString,
  tsField,
} from '../singer/raw-input.js';

/** Singer schema of a `projects` record. */
export const projectSchema = recordSchema(
  {
    id: Type.Integer(),
    name: nullableString(),
    name_with_namespace: nullableString(),
    path: nullableString(),
    path_with_namespace: nullableString(),
    description: nullableString(),
    visibility: nullableString(),
    archived: nullableBoolean(),
    default_branch: nullableString(),
    topics: nullableArray(Type.String()),
    created_at: dateTime(),
    updated_at: dateTime(),
    last_activity_at: dateTime(),
    marked_for_deletion_on: date(),
    web_url: nullableString(),
    http_url_to_repo: nullableString(),
    ssh_url_to_repo: nullableString(),
    readme_url: nullableString(),
    avatar_url: nullableString(),
    star_count: nullableInteger(),
    forks_count: nullableInteger(),
    open_issues_count: nullableInteger(),
    empty_repo: nullableBoolean(),
    creator_id: nullableInteger(),
    forked_from_project_id: nullableInteger(),
    merge_requests_enabled: nullableBoolean(),
    namespace: nullableObject({
      id: nullableInteger(),
      name: nullableString(),
      path: nullableString(),
      kind: nullableString(),
      full_path: nullableString(),
      parent_id: nullableInteger(),
      web_url: nullableString(),
    }),
  },
  ['id'],
);

/** A `projects` record: every schema key present, null when GitLab did not say. */
export type ProjectRecord = Static<typeof projectSchema>;

const readProject = rawReader('project', {
  id: Type.Integer(),
  name: rawString(),
  name_with_namespace: rawString(),
  path: rawString(),
  path_with_namespace: rawString(),
  description: rawString(),
  visibility: rawString(),
  archived: rawBoolean(),
  default_branch: rawString(),
  topics: rawArray(Type.String()),
  tag_list: rawArray(Type.String()),
  created_at: rawString(),
  updated_at: rawString(),
  last_activity_at: rawString(),
  marked_for_deletion_on: rawString(),
  marked_for_deletion_at: rawString(),
  web_url: rawString(),
  http_url_to_repo: rawString(),
  ssh_url_to_repo: rawString(),
  readme_url: rawString(),
  avatar_url: rawString(),
  star_count: rawInteger(),
  forks_count: rawInteger(),
  open_issues_count: rawInteger(),
  empty_repo: rawBoolean(),
  creator_id: rawInteger(),
  forked_from_project: rawObject({ id: Type.Integer() }),
  merge_requests_enabled: rawBoolean(),
  namespace: rawObject({
    id: rawInteger(),
    name: rawString(),
    path: rawString(),
    kind: rawString(),
    full_path: rawString(),
    parent_id: rawInteger(),
    web_url: rawString(),
  }),
});

/**
 * Maps one GitLab project object to a `projects` record: validates it (GitLabResponseError
 * naming the field when it is not a project), normalises timestamps to UTC `Z`, turns empty
 * timestamps/URLs into null and returns exactly the schema's keys.
 */
export function toProjectRecord(raw: unknown): ProjectRecord {
  const p = readProject.read(raw);
  const ts = (field: string, v: unknown): string | null => tsField('project', p.id, field, v);
  const ns = p.namespace;
  return {
    id: p.id,
    name: orNull(p.name),
    name_with_namespace: orNull(p.name_with_namespace),
    path: orNull(p.path),
    path_with_namespace: orNull(p.path_with_namespace),
    description: orNull(p.description),
    visibility: blankToNull(p.visibility),
    archived: orNull(p.archived),
    default_branch: blankToNull(p.default_branch),
    topics: p.topics ?? p.tag_list ?? null,
    created_at: ts('created_at', p.created_at),
    updated_at: ts('updated_at', p.updated_at),
    last_activity_at: ts('last_activity_at', p.last_activity_at),
    marked_for_deletion_on: dateField('project', p.id, 'marked_for_deletion_on', p.marked_for_deletion_on ?? p.marked_for_deletion_at),
    web_url: blankToNull(p.web_url),
    http_url_to_repo: blankToNull(p.http_url_to_repo),
    ssh_url_to_repo: blankToNull(p.ssh_url_to_repo),
    readme_url: blankToNull(p.readme_url),
    avatar_url: blankToNull(p.avatar_url),
    star_count: orNull(p.star_count),
    forks_count: orNull(p.forks_count),
    open_issues_count: orNull(p.open_issues_count),
    empty_repo: orNull(p.empty_repo),
    creator_id: orNull(p.creator_id),
    forked_from_project_id: p.forked_from_project?.id ?? null,
    merge_requests_enabled: orNull(p.merge_requests_enabled),
    namespace:
      ns === undefined || ns === null
        ? null
        : {
            id: orNull(ns.id),
            name: orNull(ns.name),
            path: orNull(ns.path),
            kind: blankToNull(ns.kind),
            full_path: orNull(ns.full_path),
            parent_id: orNull(ns.parent_id),
            web_url: blankToNull(ns.web_url),
          },
  };
}
