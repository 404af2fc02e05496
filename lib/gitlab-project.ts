/**
 * The few fields of a GitLab project entity that selection needs, validated at the edge.
 * The full record for the `projects` stream is mapped by lib/streams/projects-schema.ts.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { GitLabResponseError } from './errors.js';

const NullableString = Type.Unsafe<string | null>({ type: ['null', 'string'] });
const NullableBoolean = Type.Unsafe<boolean | null>({ type: ['null', 'boolean'] });

export const ProjectSummarySchema = Type.Object({
  id: Type.Integer(),
  path: Type.String(),
  name: Type.String(),
  path_with_namespace: Type.String(),
  visibility: Type.Optional(NullableString),
  archived: Type.Optional(NullableBoolean),
  marked_for_deletion_on: Type.Optional(NullableString),
  marked_for_deletion_at: Type.Optional(NullableString),
  updated_at: Type.Optional(NullableString),
});

export type ProjectSummary = Static<typeof ProjectSummarySchema>;

const check = Compile(ProjectSummarySchema);

/** Validates a project entity from the API; the raw object is kept for the record mapper. */
export function toProjectSummary(raw: unknown, where: string): ProjectSummary {
  if (check.Check(raw)) return raw;
  const first = [...check.Errors(raw)][0];
  const field = first ? first.instancePath || '(root)' : '(root)';
  throw new GitLabResponseError(
    `GitLab returned a project in ${where} that is not a project entity (${field}: ${first?.message ?? 'invalid'}); check that gitlab_base_url points at a GitLab instance.`,
  );
}

export function isPendingDeletion(p: ProjectSummary): boolean {
  return Boolean(p.marked_for_deletion_on ?? p.marked_for_deletion_at);
}
