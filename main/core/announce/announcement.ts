/**
 * Signing and checking announcements. The announcer signs the domain prefix
 * and the exact announcement bytes with its libp2p key (as the coverage
 * protocol signs attestations); anyone checks it from the peer id inside,
 * whose key is inline for secp256k1 and Ed25519 ids. An announcement that is
 * oversized, malformed, unsigned, badly signed, for another community, stale
 * or from the future is refused with the reason.
 */
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { capIntervals } from '../coverage/attestation.ts';
import type { AnnounceRefusal } from '../../contract/contract.ts';
import {
  ANNOUNCE_SIGNING_DOMAIN,
  ANNOUNCE_VERSION,
  decodeAnnouncement,
  decodeEnvelope,
  encodeAnnouncement,
  encodeEnvelope,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_STRETCHES,
} from './codec.ts';
import type { Announcement } from './codec.ts';

/** An announcement issued longer ago than this is stale (a Keeper announces every few minutes). */
export const MAX_ANNOUNCEMENT_AGE_MS = 60 * 60_000;
/** Or further ahead of the reader's clock than this. */
export const MAX_ANNOUNCEMENT_SKEW_MS = 5 * 60_000;

export class AnnouncementRefused extends Error {
  readonly reason: AnnounceRefusal;
  constructor(reason: AnnounceRefusal, detail?: string) {
    super(`announcement refused: ${reason}${detail === undefined ? '' : ` (${detail})`}`);
    this.name = 'AnnouncementRefused';
    this.reason = reason;
  }
}

function signedBytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(ANNOUNCE_SIGNING_DOMAIN.length + body.length);
  out.set(ANNOUNCE_SIGNING_DOMAIN, 0);
  out.set(body, ANNOUNCE_SIGNING_DOMAIN.length);
  return out;
}

/**
 * Encodes and signs; when the envelope would pass the cap, the shortest
 * stretches go first (online, then held), so it claims less, never more.
 * Throws RangeError when even without stretches it does not fit.
 */
export async function signAnnouncement(key: PrivateKey, a: Omit<Announcement, 'version'>): Promise<Uint8Array> {
  let held = capIntervals(a.held, MAX_STRETCHES);
  let online = capIntervals(a.online, MAX_STRETCHES);
  for (;;) {
    const body = encodeAnnouncement({ ...a, version: ANNOUNCE_VERSION, held, online });
    const signature = await key.sign(signedBytes(body));
    // A signature is at most 72 bytes (DER secp256k1) and the framing a few more.
    if (body.length + signature.length + 8 <= MAX_ANNOUNCEMENT_BYTES) return encodeEnvelope({ announcement: body, signature });
    if (online.length > 0) online = capIntervals(online, online.length - 1);
    else if (held.length > 0) held = capIntervals(held, held.length - 1);
    else throw new RangeError('an announcement does not fit its cap even without stretches');
  }
}

/**
 * Checks a payload read off the community's keepers topic and returns the
 * announcement; throws AnnouncementRefused. Sequence, rate and the number of
 * Keepers tracked are the tracker's to check.
 */
export async function verifyAnnouncement(payload: Uint8Array, community: string, nowMs: number): Promise<Announcement> {
  if (payload.length > MAX_ANNOUNCEMENT_BYTES) throw new AnnouncementRefused('oversized', `${payload.length} bytes`);
  let env;
  try {
    env = decodeEnvelope(payload);
  } catch (err) {
    throw new AnnouncementRefused('malformed', (err as Error).message);
  }
  if (env.announcement.length === 0 || env.signature.length === 0) throw new AnnouncementRefused('unsigned');
  let a: Announcement;
  try {
    a = decodeAnnouncement(env.announcement);
  } catch (err) {
    throw new AnnouncementRefused('malformed', (err as Error).message);
  }
  if (a.version !== ANNOUNCE_VERSION) throw new AnnouncementRefused('malformed', `version ${a.version}`);
  let key;
  try {
    key = peerIdFromString(a.peerId).publicKey;
  } catch {
    throw new AnnouncementRefused('malformed', 'not a peer id');
  }
  if (key === undefined) throw new AnnouncementRefused('malformed', 'the peer id carries no public key');
  let good: boolean;
  try {
    good = await key.verify(signedBytes(env.announcement), env.signature);
  } catch {
    good = false;
  }
  if (!good) throw new AnnouncementRefused('bad-signature');
  if (a.community !== community) throw new AnnouncementRefused('wrong-community');
  if (a.issuedMs < nowMs - MAX_ANNOUNCEMENT_AGE_MS) throw new AnnouncementRefused('stale');
  if (a.issuedMs > nowMs + MAX_ANNOUNCEMENT_SKEW_MS) throw new AnnouncementRefused('future');
  return a;
}
