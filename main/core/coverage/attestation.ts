/**
 * Signed coverage: what a Keeper says it holds of a time range, signed with
 * its node key, and the checks an asker makes before it believes a word of it.
 * An attestation that is unsigned, badly signed, oversized, for another
 * question, stale, or not in the shape the protocol fixes is refused.
 */
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { normalize } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { decodeAttestation, encodeAttestation, MAX_INTERVALS, MAX_RESPONSE_BYTES, SIGNING_DOMAIN } from './codec.ts';
import type { Attestation, CoverageRequest, CoverageResponse } from './codec.ts';

/** An attestation issued further than this from the asker's clock is refused. */
export const MAX_ATTESTATION_SKEW_MS = 5 * 60_000;

/** A coverage answer that is not believed; `reason` says why, for the peer's record. */
export class AttestationRefused extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`coverage answer refused: ${reason}`);
    this.name = 'AttestationRefused';
    this.reason = reason;
  }
}

/**
 * At most `max` stretches: when there are more, the shortest are dropped, so
 * the answer claims less than is held, never more.
 */
export function capIntervals(intervals: readonly Interval[], max = MAX_INTERVALS): Interval[] {
  const merged = normalize(intervals);
  if (merged.length <= max) return merged;
  const kept = [...merged].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, max);
  return kept.sort((a, b) => a.start - b.start);
}

function signedBytes(attestation: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNING_DOMAIN.length + attestation.length);
  out.set(SIGNING_DOMAIN, 0);
  out.set(attestation, SIGNING_DOMAIN.length);
  return out;
}

/** Encodes and signs an attestation with the node's key. */
export async function signAttestation(key: PrivateKey, a: Attestation): Promise<{ attestation: Uint8Array; signature: Uint8Array }> {
  const attestation = encodeAttestation(a);
  const signature = await key.sign(signedBytes(attestation));
  return { attestation, signature };
}

/**
 * Checks a 200 answer from `from` to `request` and returns the stretches it
 * attests, in ms; throws AttestationRefused when anything is off.
 */
export async function verifyAttestation(res: CoverageResponse, from: PeerId, request: CoverageRequest, nowMs: number): Promise<Interval[]> {
  if (res.attestation.length === 0 || res.signature.length === 0) throw new AttestationRefused('unsigned');
  if (res.attestation.length + res.signature.length > MAX_RESPONSE_BYTES) throw new AttestationRefused('oversized');
  const key = from.publicKey;
  if (key === undefined) throw new AttestationRefused('the peer id carries no public key to check a signature with');
  let good: boolean;
  try {
    good = await key.verify(signedBytes(res.attestation), res.signature);
  } catch {
    good = false;
  }
  if (!good) throw new AttestationRefused('bad signature');
  let a: Attestation;
  try {
    a = decodeAttestation(res.attestation);
  } catch (err) {
    throw new AttestationRefused(`undecodable attestation (${(err as Error).message})`);
  }
  if (a.peerId !== from.toString()) throw new AttestationRefused('signed for another peer');
  if (a.requestId !== request.requestId || a.pubsubTopic !== request.pubsubTopic || a.startMs !== request.startMs || a.endMs !== request.endMs) {
    throw new AttestationRefused('answers another question');
  }
  if (a.contentTopics.length !== request.contentTopics.length || a.contentTopics.some((t, i) => t !== request.contentTopics[i])) {
    throw new AttestationRefused('answers for other content topics');
  }
  if (Math.abs(Number(a.issuedMs) - nowMs) > MAX_ATTESTATION_SKEW_MS) throw new AttestationRefused('stale or from the future');
  let last = request.startMs;
  for (const i of a.held) {
    if (i.startMs < last || i.endMs <= i.startMs || i.endMs > request.endMs) throw new AttestationRefused('stretches unsorted, empty, overlapping or outside the range');
    last = i.endMs;
  }
  return a.held.map((i) => ({ start: Number(i.startMs), end: Number(i.endMs) }));
}
