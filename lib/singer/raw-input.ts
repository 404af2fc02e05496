/**
 * Helpers for reading GitLab's JSON into records: permissive TypeBox input shapes (every field
 * optional and nullable, extra fields ignored), one validation step that turns the first problem
 * into a GitLabResponseError naming the field, and small converters that name the field too.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { GitLabResponseError } from '../errors.js';
import { normalizeDate, normalizeTimestamp } from '../time.js';

/** An optional, nullable string in GitLab's JSON. */
export const rawString = () => Type.Optional(Type.Union([Type.String(), Type.Null()]));
/** An optional, nullable integer. */
export const rawInteger = () => Type.Optional(Type.Union([Type.Integer(), Type.Null()]));
/** An optional, nullable boolean. */
export const rawBoolean = () => Type.Optional(Type.Union([Type.Boolean(), Type.Null()]));
/** An optional, nullable object (extra keys allowed). */
export const rawObject = <P extends TProperties>(p: P) => Type.Optional(Type.Union([Type.Object(p), Type.Null()]));
/** An optional, nullable array. */
export const rawArray = <I extends TSchema>(items: I) => Type.Optional(Type.Union([Type.Array(items), Type.Null()]));
/** The embedded user object GitLab nests in merge requests (id required when the object is there). */
export const rawUserProps = {
  id: Type.Integer(),
  username: rawString(),
  name: rawString(),
  state: rawString(),
  locked: rawBoolean(),
  avatar_url: rawString(),
  web_url: rawString(),
};

/** A compiled reader for one kind of GitLab object. */
export interface RawReader<T> {
  /** Validates `raw`; throws GitLabResponseError naming the entity, its id and the field. */
  read(raw: unknown): T;
}

/** Compiles a permissive input shape (`id` integer required) for `entity` ("project", "merge request", …). */
export function rawReader<P extends TProperties>(entity: string, properties: P): RawReader<Static<TObject<P>>> {
  const shape = Type.Object(properties);
  const validator = Compile(shape);
  return {
    read(raw) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new GitLabResponseError(`GitLab sent ${describe(raw)} where a ${entity} object was expected.`);
      }
      if (validator.Check(raw)) return raw;
      const id = (raw as { id?: unknown }).id;
      const which = Number.isInteger(id) ? ` ${String(id)}` : '';
      const errors = validator.Errors(raw);
      const first = errors[0];
      const path = first?.instancePath ?? '';
      const field = pathToField(path, first?.params);
      if (field === 'id') {
        throw new GitLabResponseError(`GitLab sent a ${entity} without an integer "id" (got ${describe(valueAt(raw, '/id'))}).`);
      }
      if (first?.keyword === 'required') throw new GitLabResponseError(`GitLab sent a ${entity}${which} without field "${field}".`);
      const types = errors.filter((e) => e.instancePath === path && e.keyword === 'type').map((e) => String((e.params as { type?: unknown }).type));
      const expected = types.length > 0 ? [...new Set(types)].join(' or ') : 'of another type';
      throw new GitLabResponseError(`GitLab sent a ${entity}${which} whose field "${field}" must be ${expected} (got ${describe(valueAt(raw, path))}).`);
    },
  };
}

/** Normalises a timestamp field, naming it in the error. */
export function tsField(entity: string, id: number, field: string, value: unknown): string | null {
  try {
    return normalizeTimestamp(value);
  } catch (err) {
    throw new GitLabResponseError(`GitLab sent ${entity} ${id} with field "${field}" that is not a timestamp: ${(err as Error).message}.`);
  }
}

/** Normalises a date-only field, naming it in the error. */
export function dateField(entity: string, id: number, field: string, value: unknown): string | null {
  try {
    return normalizeDate(value);
  } catch (err) {
    throw new GitLabResponseError(`GitLab sent ${entity} ${id} with field "${field}" that is not a date: ${(err as Error).message}.`);
  }
}

/** undefined → null (a field GitLab did not send). */
export const orNull = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

/** undefined and '' → null, for strings where an empty value means "not set". */
export const blankToNull = (v: string | null | undefined): string | null => (v === undefined || v === null || v.trim() === '' ? null : v);

function pathToField(instancePath: string, params: unknown): string {
  const parts = instancePath.split('/').filter((p) => p !== '').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = (params as { requiredProperties?: unknown } | undefined)?.requiredProperties;
  if (Array.isArray(missing) && typeof missing[0] === 'string') parts.push(missing[0]);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

function valueAt(raw: unknown, instancePath: string): unknown {
  let cur: unknown = raw;
  for (const p of instancePath.split('/').filter((x) => x !== '')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
