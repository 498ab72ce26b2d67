/**
 * A protobuf reader for the hot paths (relay's WakuMessages, Store answers):
 * one pass over the bytes, length-delimited fields as views into them, and
 * protons' meaning (last value of a field wins, unknown fields skipped).
 * Anything truncated or malformed throws a ProtoError.
 */
export class ProtoError extends Error {}

export class ProtoReader {
  pos: number;
  readonly end: number;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint that fits a double exactly (< 2^53): tags, lengths, small values. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** A full 64-bit varint, unsigned. */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** A length-delimited field, as a view into the buffer. */
  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.end - this.pos) throw new ProtoError('length beyond the end');
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return view;
  }

  /** Skips a field of `wireType`; groups (3, 4) are refused, as protons does. */
  skip(wireType: number): void {
    if (wireType === 0) this.varint64();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtoError(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new ProtoError('truncated field');
  }
}
