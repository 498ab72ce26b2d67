/**
 * Writing Keeper's own protobuf messages (the coverage protocol, announcements)
 * with protons-runtime, field by field: proto3's rule that a default value is
 * not written, and protons' length-delimited framing for nested messages.
 * Tags are field number << 3 | wire type (0 varint, 2 length-delimited).
 */
import { message } from 'protons-runtime';
import type { Codec, Reader, Writer } from 'protons-runtime';

/** A protons codec from a field writer and a reader that stops at `end`. */
export function codecOf<T>(fields: (obj: Partial<T>, w: Writer) => void, decode: (r: Reader, end: number) => T): Codec<T> {
  return message<T>(
    (obj, w, opts = {}) => {
      if (opts.lengthDelimited !== false) w.fork();
      fields(obj, w);
      if (opts.lengthDelimited !== false) w.ldelim();
    },
    (reader, length) => decode(reader, length === undefined ? reader.len : reader.pos + length),
  );
}

export function writeString(w: Writer, field: number, v: string | undefined): void {
  if (v !== undefined && v !== '') w.uint32((field << 3) | 2).string(v);
}

export function writeU64(w: Writer, field: number, v: bigint | undefined): void {
  if (v !== undefined && v !== 0n) w.uint32(field << 3).uint64(v);
}

/** A uint64 held as a JS number (below 2^53). */
export function writeNumber(w: Writer, field: number, v: number | undefined): void {
  if (v !== undefined && v !== 0) w.uint32(field << 3).uint64Number(v);
}
