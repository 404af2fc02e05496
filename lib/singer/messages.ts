/**
 * Singer message shapes (SCHEMA, RECORD, STATE), their builders, and a TypeBox-checked parser of
 * a stdout line (used by tests, the end-to-end harness and tools that read the tap's output).
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const SchemaMessage = Type.Object({
  type: Type.Literal('SCHEMA'),
  stream: Type.String(),
  schema: Type.Record(Type.String(), Type.Unknown()),
  key_properties: Type.Array(Type.String()),
  bookmark_properties: Type.Optional(Type.Array(Type.String())),
});
const RecordMessage = Type.Object({
  type: Type.Literal('RECORD'),
  stream: Type.String(),
  record: Type.Record(Type.String(), Type.Unknown()),
  time_extracted: Type.Optional(Type.String()),
});
const StateMessage = Type.Object({ type: Type.Literal('STATE'), value: Type.Unknown() });

export type SchemaMessage = Static<typeof SchemaMessage>;
export type RecordMessage = Static<typeof RecordMessage>;
export type StateMessage = Static<typeof StateMessage>;
export type SingerMessage = SchemaMessage | RecordMessage | StateMessage;

const checkMessage = Compile(Type.Union([SchemaMessage, RecordMessage, StateMessage]));

/** A SCHEMA message; `bookmark_properties` only when given and non-empty. */
export function schemaMessage(stream: string, schema: object, keyProperties: string[], bookmarkProperties?: string[]): SchemaMessage {
  const msg: SchemaMessage = { type: 'SCHEMA', stream, schema: schema as Record<string, unknown>, key_properties: [...keyProperties] };
  if (bookmarkProperties && bookmarkProperties.length > 0) msg.bookmark_properties = [...bookmarkProperties];
  return msg;
}

/** A RECORD message with `time_extracted` in RFC 3339 UTC. */
export function recordMessage(stream: string, record: Record<string, unknown>, timeExtracted: Date): RecordMessage {
  return { type: 'RECORD', stream, time_extracted: timeExtracted.toISOString(), record };
}

/** A STATE message. */
export function stateMessage(value: unknown): StateMessage {
  return { type: 'STATE', value };
}

/** One message as one line of JSON, newline-terminated (JSON.stringify escapes inner newlines). */
export function serializeMessage(msg: SingerMessage): string {
  return `${JSON.stringify(msg)}\n`;
}

/** Parses one stdout line into a Singer message; throws a SyntaxError/TypeError naming the problem. */
export function parseMessage(line: string): SingerMessage {
  const json: unknown = JSON.parse(line);
  if (!checkMessage.Check(json)) {
    const first = checkMessage.Errors(json)[0];
    throw new TypeError(`not a Singer message: ${first ? `${first.instancePath || '(root)'} ${first.message}` : 'unknown shape'}`);
  }
  return json as SingerMessage;
}

/** Parses a whole stdout text (blank lines ignored) into messages. */
export function parseMessages(text: string): SingerMessage[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseMessage);
}
