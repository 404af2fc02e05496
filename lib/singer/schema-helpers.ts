/**
 * Singer-style schema builders. Targets want `{"type": ["null", X]}` with exactly one non-null
 * type; TypeBox's Union would produce `anyOf`, which BigQuery/Postgres targets mishandle, so the
 * nullable shapes are written out with Type.Unsafe while keeping TypeBox's static types.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema, type TUnsafe } from 'typebox';

type JsonType = 'string' | 'integer' | 'number' | 'boolean';

const nullableOf = <T>(type: JsonType, extra: Record<string, unknown> = {}): TUnsafe<T | null> =>
  Type.Unsafe<T | null>({ type: ['null', type], ...extra });

/** `{"type": ["null","string"]}` */
export const nullableString = (): TUnsafe<string | null> => nullableOf<string>('string');
/** `{"type": ["null","integer"]}` */
export const nullableInteger = (): TUnsafe<number | null> => nullableOf<number>('integer');
/** `{"type": ["null","number"]}` */
export const nullableNumber = (): TUnsafe<number | null> => nullableOf<number>('number');
/** `{"type": ["null","boolean"]}` */
export const nullableBoolean = (): TUnsafe<boolean | null> => nullableOf<boolean>('boolean');
/** `{"type": ["null","string"], "format": "date-time"}` — values are UTC with `Z`. */
export const dateTime = (): TUnsafe<string | null> => nullableOf<string>('string', { format: 'date-time' });
/** `{"type": ["null","string"], "format": "date"}` — values are `YYYY-MM-DD`. */
export const date = (): TUnsafe<string | null> => nullableOf<string>('string', { format: 'date' });

/** A nullable nested object with explicit properties (each nullable itself). */
export function nullableObject<P extends TProperties>(properties: P): TUnsafe<{ [K in keyof P]: Static<P[K]> } | null> {
  return Type.Unsafe<{ [K in keyof P]: Static<P[K]> } | null>({ type: ['null', 'object'], properties });
}

/** A nullable array with typed, non-null items (`{"type":["null","array"],"items":{"type":"string"}}`). */
export function nullableArray<I extends TSchema>(items: I): TUnsafe<Array<Static<I>> | null> {
  return Type.Unsafe<Array<Static<I>> | null>({ type: ['null', 'array'], items });
}

/**
 * A top-level record schema: an object whose `required` lists only the key properties (every
 * other property is nullable and always present in records, but may be deselected).
 */
export function recordSchema<P extends TProperties>(properties: P, keyProperties: readonly string[]): TObject<P> {
  return Type.Object(properties, { required: [...keyProperties] });
}

/** A deep, plain-JSON copy of a schema (drops TypeBox's internal markers). */
export function plainSchema(schema: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
