/**
 * JSON as nwaku's REST API writes it: int64 fields (timestamps in ns) are
 * plain JSON numbers with all their digits, which JSON.parse and
 * JSON.stringify would round through a double. Reading keeps the source digits
 * of the named fields; writing puts bigints out as their digits.
 */

/** JSON.parse's reviver with the source text of the value (V8, Node 21+; not yet in TypeScript's lib). */
type SourceReviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;
const parseWithSource = JSON.parse as (text: string, reviver: SourceReviver) => unknown;
// JSON.rawJSON (V8, Node 21+) is not yet in TypeScript's lib either.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

const INTEGER = /^-?\d+$/;

/**
 * Parses JSON; an integer under one of `exactKeys` comes back as a bigint made
 * from its digits, every other value as JSON.parse gives it. Throws SyntaxError.
 */
export function parseJson(text: string, exactKeys: ReadonlySet<string> = new Set()): unknown {
  return parseWithSource(text, function (key, value, context) {
    if (typeof value === 'number' && exactKeys.has(key) && context.source !== undefined && INTEGER.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** JSON text of `value`, with bigints written as JSON numbers of all their digits. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? rawJSON(v.toString()) : v));
}
