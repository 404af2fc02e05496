/**
 * The `users` stream: its Singer schema and the mapper that combines a user embedded in merge
 * requests with an optional profile (REST-shaped, snake_case: the public view, or the admin view
 * with `email`, `is_admin`, `last_activity_on`). Fields the profile does not carry stay null.
 */
import { Type, type Static } from 'typebox';
import { GitLabResponseError } from '../errors.js';
import { date, dateTime, nullableBoolean, nullableString, recordSchema } from '../singer/schema-helpers.js';
import { blankToNull, dateField, rawBoolean, rawReader, rawString, tsField } from '../singer/raw-input.js';
import type { EmbeddedUser } from './merge-requests-schema.js';

export type { EmbeddedUser };

/** Singer schema of a `users` record. */
export const userSchema = recordSchema(
  {
    id: Type.Integer(),
    username: nullableString(),
    name: nullableString(),
    state: nullableString(),
    locked: nullableBoolean(),
    bot: nullableBoolean(),
    avatar_url: nullableString(),
    web_url: nullableString(),
    email: nullableString(),
    public_email: nullableString(),
    job_title: nullableString(),
    organization: nullableString(),
    location: nullableString(),
    is_admin: nullableBoolean(),
    created_at: dateTime(),
    last_activity_on: date(),
  },
  ['id'],
);

/** A `users` record: every schema key present, null when unknown. */
export type UserRecord = Static<typeof userSchema>;

const profileFields = {
  id: Type.Optional(Type.Integer()),
  username: rawString(),
  name: rawString(),
  state: rawString(),
  locked: rawBoolean(),
  bot: rawBoolean(),
  avatar_url: rawString(),
  web_url: rawString(),
  email: rawString(),
  public_email: rawString(),
  job_title: rawString(),
  organization: rawString(),
  location: rawString(),
  is_admin: rawBoolean(),
  created_at: rawString(),
  last_activity_on: rawString(),
};
const readProfile = rawReader('user profile', profileFields);

/** The fields of a profile that a `users` record takes: all a lookup needs to keep of GitLab's user object. */
export const PROFILE_FIELDS: readonly string[] = Object.keys(profileFields);

/**
 * Builds a `users` record from an embedded user and, when available, its profile. Profile values
 * win over the embedded ones when they are not null; '' means null for e-mails and profile texts.
 * Throws GitLabResponseError when the profile is malformed or belongs to another user.
 */
export function toUserRecord(embedded: EmbeddedUser, profile?: Record<string, unknown>): UserRecord {
  const p = profile === undefined ? {} : readProfile.read(profile);
  if (p.id !== undefined && p.id !== embedded.id) {
    throw new GitLabResponseError(`GitLab returned the profile of user ${p.id} where user ${embedded.id} was asked for.`);
  }
  const pick = <T>(fromProfile: T | null | undefined, fromEmbedded: T | null): T | null => fromProfile ?? fromEmbedded;
  return {
    id: embedded.id,
    username: pick(p.username, embedded.username),
    name: pick(p.name, embedded.name),
    state: blankToNull(pick(p.state, embedded.state)),
    locked: pick(p.locked, embedded.locked),
    bot: p.bot ?? null,
    avatar_url: blankToNull(pick(p.avatar_url, embedded.avatar_url)),
    web_url: blankToNull(pick(p.web_url, embedded.web_url)),
    email: blankToNull(p.email),
    public_email: blankToNull(p.public_email),
    job_title: blankToNull(p.job_title),
    organization: blankToNull(p.organization),
    location: blankToNull(p.location),
    is_admin: p.is_admin ?? null,
    created_at: tsField('user', embedded.id, 'created_at', p.created_at),
    last_activity_on: dateField('user', embedded.id, 'last_activity_on', p.last_activity_on),
  };
}
