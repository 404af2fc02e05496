/**
 * The few fields of a GitLab project entity that selection needs, validated at the edge.
 * The full record for the `projects` stream is mapped by lib/streams/projects-schema.ts.
 */
import { Type } from 'typebox';
import { rawBoolean, rawReader, rawString } from './singer/raw-input.js';

const readProjectSummary = rawReader('project', {
  id: Type.Integer(),
  path: Type.String(),
  name: Type.String(),
  path_with_namespace: Type.String(),
  visibility: rawString(),
  archived: rawBoolean(),
  marked_for_deletion_on: rawString(),
  marked_for_deletion_at: rawString(),
  updated_at: rawString(),
});

export type ProjectSummary = ReturnType<typeof readProjectSummary.read>;

/** Validates a project entity from the API (GitLabResponseError naming the field); the raw object is kept for the record mapper. */
export function toProjectSummary(raw: unknown): ProjectSummary {
  return readProjectSummary.read(raw);
}

export function isPendingDeletion(p: ProjectSummary): boolean {
  return Boolean(p.marked_for_deletion_on ?? p.marked_for_deletion_at);
}
