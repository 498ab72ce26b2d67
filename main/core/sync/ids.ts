/**
 * What Waku Sync reconciles: SyncIDs, (timestamp, 14/WAKU2-MESSAGE hash) pairs
 * in one total order — timestamp first, then the hash's bytes — and the XOR
 * fingerprints of ranges of them.
 */

export const HASH_BYTES = 32;

/** A message in the order Waku Sync compares: its timestamp (ns, ≥ 0) and its hash. */
export interface SyncId {
  time: bigint;
  hash: Uint8Array;
}

/** The hash of every range bound on the wire: nwaku sends bounds as times with a zero hash. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

/** The largest timestamp the wire carries: nwaku's Timestamp is an int64. */
export const MAX_TIME = 2n ** 63n - 1n;

export function boundAt(time: bigint): SyncId {
  return { time, hash: ZERO_HASH };
}

export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(asBuffer(a), asBuffer(b));
}

export function compareIds(a: SyncId, b: SyncId): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return compareHashes(a.hash, b.hash);
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && asBuffer(a).equals(asBuffer(b));
}

export function isZero(hash: Uint8Array): boolean {
  for (const b of hash) if (b !== 0) return false;
  return true;
}

/** XORs `hash` into `acc` (both 32 bytes) in place. */
export function xorInto(acc: Uint8Array, hash: Uint8Array): void {
  for (let i = 0; i < HASH_BYTES; i++) acc[i] = (acc[i] as number) ^ (hash[i] as number);
}

/** XOR of a run of 32-byte hashes laid end to end, eight 32-bit words at a time. */
export function xorConcatenated(hashes: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_BYTES);
  if (hashes.length === 0) return out;
  const words = hashes.byteOffset % 4 === 0 ? new Int32Array(hashes.buffer, hashes.byteOffset, hashes.length >> 2) : new Int32Array(hashes.slice().buffer);
  const acc = new Int32Array(out.buffer);
  for (let i = 0; i + 8 <= words.length; i += 8) {
    acc[0] = (acc[0] as number) ^ (words[i] as number);
    acc[1] = (acc[1] as number) ^ (words[i + 1] as number);
    acc[2] = (acc[2] as number) ^ (words[i + 2] as number);
    acc[3] = (acc[3] as number) ^ (words[i + 3] as number);
    acc[4] = (acc[4] as number) ^ (words[i + 4] as number);
    acc[5] = (acc[5] as number) ^ (words[i + 5] as number);
    acc[6] = (acc[6] as number) ^ (words[i + 6] as number);
    acc[7] = (acc[7] as number) ^ (words[i + 7] as number);
  }
  return out;
}

export function fingerprintOf(ids: Iterable<SyncId>): Uint8Array {
  const fp = new Uint8Array(HASH_BYTES);
  for (const id of ids) xorInto(fp, id.hash);
  return fp;
}

export function hashKey(hash: Uint8Array): string {
  return asBuffer(hash).toString('hex');
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
