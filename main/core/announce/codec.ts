/**
 * The announcement's wire format (docs/announcement-protocol.md): a signed
 * envelope around the exact bytes that were signed, and the announcement
 * itself, with its time stretches packed as varint pairs of seconds. Hard
 * cap: an envelope is at most MAX_ANNOUNCEMENT_BYTES, on encode and decode.
 */
import { decodeMessage, encodeMessage } from 'protons-runtime';
import type { Codec, Reader, Writer } from 'protons-runtime';
import { codecOf, writeNumber, writeString } from '../util/protons-fields.ts';
import type { Interval } from '../util/intervals.ts';

export const ANNOUNCE_VERSION = 1;
/** The envelope (what a WakuMessage's payload carries) is at most this; more is refused both ways. */
export const MAX_ANNOUNCEMENT_BYTES = 2000;
/** What is signed: this, then the encoded announcement. */
export const ANNOUNCE_SIGNING_DOMAIN = new TextEncoder().encode('waku-keeper/announce/1\n');
export const MAX_MULTIADDRS = 8;
/** Stretches of each kind (held, online) before the encoder drops the shortest. */
export const MAX_STRETCHES = 64;
export const MAX_ENDORSED = 24;
export const MAX_TEXT = 300;

export type AnnouncedRole = 'owner' | 'volunteer';

/** An announcement as the code holds it; times in ms since the epoch. */
export interface Announcement {
  version: number;
  /** The announcer: its key checks the signature. */
  peerId: string;
  /** The community it is bound to (communities/keepers-topic.ts). */
  community: string;
  /** Encoded multiaddrs (binary form), without /p2p/. */
  multiaddrs: Uint8Array[];
  enr: string;
  role: AnnouncedRole;
  retentionMs: number;
  freeBytes: number;
  /** What the announcer attests holding of the last 30 days: sorted, disjoint, whole seconds. */
  held: Interval[];
  /** When it was online (relaying the community) over the last 30 days. */
  online: Interval[];
  software: string;
  /** Strictly increasing per announcer. */
  seq: number;
  issuedMs: number;
  /** Owners only: the peer ids (multihash bytes) of the Keepers it vouches for. */
  endorsed: Uint8Array[];
}

export interface SignedEnvelope {
  announcement: Uint8Array;
  signature: Uint8Array;
}

/** A stretch set packed as (gap since the previous end, length) pairs of whole seconds from `baseS`. */
export function packStretches(stretches: readonly Interval[], baseS: number): number[] {
  const out: number[] = [];
  let last = baseS;
  for (const i of stretches) {
    // Inward to whole seconds: a stretch may shrink, never grow.
    const start = Math.max(Math.ceil(i.start / 1000), last);
    const end = Math.floor(i.end / 1000);
    if (end <= start) continue;
    out.push(start - last, end - start);
    last = end;
  }
  return out;
}

export function unpackStretches(packed: readonly number[], baseS: number): Interval[] {
  if (packed.length % 2 !== 0) throw new Error('stretches must come in pairs');
  const out: Interval[] = [];
  let last = baseS;
  for (let k = 0; k < packed.length; k += 2) {
    const start = last + (packed[k] as number);
    const end = start + (packed[k + 1] as number);
    if (end <= start) throw new Error('empty stretch');
    // A gap of 0 after the first would make two stretches touch: not the canonical form.
    if (k > 0 && start === last) throw new Error('touching stretches');
    out.push({ start: start * 1000, end: end * 1000 });
    last = end;
  }
  return out;
}

const ROLE_CODE: Record<AnnouncedRole, number> = { owner: 1, volunteer: 2 };

interface WireAnnouncement {
  version: number;
  peerId: string;
  community: string;
  multiaddrs: Uint8Array[];
  enr: string;
  role: number;
  retentionS: number;
  freeBytes: number;
  baseS: number;
  held: number[];
  online: number[];
  software: string;
  seq: number;
  issuedMs: number;
  endorsed: Uint8Array[];
}

const byt = (w: Writer, f: number, v: Uint8Array): void => {
  w.uint32((f << 3) | 2).bytes(v);
};
const packed = (w: Writer, f: number, v: readonly number[] | undefined): void => {
  if (v === undefined || v.length === 0) return;
  w.uint32((f << 3) | 2).fork();
  for (const x of v) w.uint64Number(x);
  w.ldelim();
};

function readPacked(r: Reader, max: number): number[] {
  const end = r.uint32() + r.pos;
  const out: number[] = [];
  while (r.pos < end) {
    if (out.length >= max) throw new Error('too many stretches');
    out.push(r.uint64Number());
  }
  return out;
}

function readText(r: Reader): string {
  const s = r.string();
  if (s.length > MAX_TEXT) throw new Error('text field too long');
  return s;
}

const wireCodec: Codec<WireAnnouncement> = codecOf<WireAnnouncement>(
  (o, w) => {
    writeNumber(w, 1, o.version);
    writeString(w, 2, o.peerId);
    writeString(w, 3, o.community);
    for (const a of o.multiaddrs ?? []) byt(w, 4, a);
    writeString(w, 5, o.enr);
    writeNumber(w, 6, o.role);
    writeNumber(w, 7, o.retentionS);
    writeNumber(w, 8, o.freeBytes);
    writeNumber(w, 9, o.baseS);
    packed(w, 10, o.held);
    packed(w, 11, o.online);
    writeString(w, 12, o.software);
    writeNumber(w, 13, o.seq);
    writeNumber(w, 14, o.issuedMs);
    for (const e of o.endorsed ?? []) byt(w, 15, e);
  },
  (r, end) => {
    const o: WireAnnouncement = {
      version: 0, peerId: '', community: '', multiaddrs: [], enr: '', role: 0, retentionS: 0, freeBytes: 0,
      baseS: 0, held: [], online: [], software: '', seq: 0, issuedMs: 0, endorsed: [],
    };
    while (r.pos < end) {
      const tag = r.uint32();
      const f = tag >>> 3;
      if (f === 1) o.version = r.uint32();
      else if (f === 2) o.peerId = readText(r);
      else if (f === 3) o.community = readText(r);
      else if (f === 4) {
        if (o.multiaddrs.length >= MAX_MULTIADDRS) throw new Error('too many multiaddrs');
        o.multiaddrs.push(r.bytes());
      } else if (f === 5) o.enr = r.string();
      else if (f === 6) o.role = r.uint32();
      else if (f === 7) o.retentionS = r.uint64Number();
      else if (f === 8) o.freeBytes = r.uint64Number();
      else if (f === 9) o.baseS = r.uint64Number();
      else if (f === 10) o.held = readPacked(r, 2 * MAX_STRETCHES);
      else if (f === 11) o.online = readPacked(r, 2 * MAX_STRETCHES);
      else if (f === 12) o.software = readText(r);
      else if (f === 13) o.seq = r.uint64Number();
      else if (f === 14) o.issuedMs = r.uint64Number();
      else if (f === 15) {
        if (o.endorsed.length >= MAX_ENDORSED) throw new Error('too many endorsements');
        o.endorsed.push(r.bytes());
      } else r.skipType(tag & 7);
    }
    return o;
  },
);

const envelopeCodec: Codec<SignedEnvelope> = codecOf<SignedEnvelope>(
  (o, w) => {
    if (o.announcement !== undefined && o.announcement.length > 0) byt(w, 1, o.announcement);
    if (o.signature !== undefined && o.signature.length > 0) byt(w, 2, o.signature);
  },
  (r, end) => {
    const o: SignedEnvelope = { announcement: new Uint8Array(0), signature: new Uint8Array(0) };
    while (r.pos < end) {
      const tag = r.uint32();
      const f = tag >>> 3;
      if (f === 1) o.announcement = r.bytes();
      else if (f === 2) o.signature = r.bytes();
      else r.skipType(tag & 7);
    }
    return o;
  },
);

/** Encodes an announcement; its stretches must already fit (announcement.ts trims them). */
export function encodeAnnouncement(a: Announcement): Uint8Array {
  const baseS = Math.floor(Math.min(a.held[0]?.start ?? Infinity, a.online[0]?.start ?? Infinity, a.issuedMs) / 1000);
  return encodeMessage<WireAnnouncement>(
    {
      version: a.version,
      peerId: a.peerId,
      community: a.community,
      multiaddrs: a.multiaddrs.slice(0, MAX_MULTIADDRS),
      enr: a.enr,
      role: ROLE_CODE[a.role],
      retentionS: Math.floor(a.retentionMs / 1000),
      freeBytes: Math.max(0, Math.floor(a.freeBytes)),
      baseS,
      held: packStretches(a.held, baseS),
      online: packStretches(a.online, baseS),
      software: a.software.slice(0, MAX_TEXT),
      seq: a.seq,
      issuedMs: a.issuedMs,
      endorsed: a.endorsed.slice(0, MAX_ENDORSED),
    },
    wireCodec,
  );
}

/** Decodes an announcement's bytes; throws on anything malformed (an unknown role, odd stretch lists, …). */
export function decodeAnnouncement(bytes: Uint8Array): Announcement {
  const w = decodeMessage(bytes, wireCodec);
  const role = w.role === 1 ? 'owner' : w.role === 2 ? 'volunteer' : undefined;
  if (role === undefined) throw new Error(`unknown role ${w.role}`);
  return {
    version: w.version,
    peerId: w.peerId,
    community: w.community,
    multiaddrs: w.multiaddrs,
    enr: w.enr,
    role,
    retentionMs: w.retentionS * 1000,
    freeBytes: w.freeBytes,
    held: unpackStretches(w.held, w.baseS),
    online: unpackStretches(w.online, w.baseS),
    software: w.software,
    seq: w.seq,
    issuedMs: w.issuedMs,
    endorsed: w.endorsed,
  };
}

export function encodeEnvelope(e: SignedEnvelope): Uint8Array {
  const bytes = encodeMessage(e, envelopeCodec);
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) throw new RangeError(`announcement of ${bytes.length} bytes, over the ${MAX_ANNOUNCEMENT_BYTES}-byte cap`);
  return bytes;
}

export function decodeEnvelope(bytes: Uint8Array): SignedEnvelope {
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) throw new RangeError('oversized');
  return decodeMessage(bytes, envelopeCodec);
}
