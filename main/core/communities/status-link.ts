/**
 * A Status community as a volunteer knows it: by its link
 * (`https://status.app/c/<data>#<key>`, `/c#<key>`, `/cc/<channel>#<key>`),
 * by its key (`zQ3sh…`), or by its id (`0x` + 66 hex). What status-go reads
 * from them (services/sharedurls/service.go, pkg/multiformat): the key after
 * the first `#` is multibase base58btc of the multicodec secp256k1-pub
 * (`e7 01`) and the 33-byte compressed key, which must be a point on the
 * curve; the community id is `0x` + that key in lowercase hex. The data part
 * (padded URL-safe base64 of a Brotli-compressed URLData protobuf) is display
 * data only: nothing in a link is signed or checksummed, so a name shown from
 * it is what the link claims, not what the community says.
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { secp256k1 } from '@noble/curves/secp256k1';
import { brotliDecompressSync } from 'node:zlib';
import { base58Decode, base58Encode, Base58Error } from '../util/base58.ts';
import { ProtoError, ProtoReader } from '../util/proto-reader.ts';
import { shardTopic } from '../message/topics.ts';
import { STATUS_CLUSTER_ID } from './status-network.ts';

/** Why a link, key or id is not one of a Status community. */
export class CommunityLinkError extends Error {}

/** What a link's data part says of the community (unauthenticated). */
export interface LinkDisplay {
  name: string | null;
  description: string | null;
  membersCount: number | null;
  color: string | null;
  tags: number[];
}

export interface StatusCommunityRef {
  /** The community id: `0x` + the 33-byte compressed key, lowercase hex. */
  id: string;
  /** The key as links carry it: `zQ3sh…`. */
  key: string;
  /** What it was given as. */
  from: 'link' | 'key' | 'id';
  /** Display data from a link's data part, or null. */
  display: LinkDisplay | null;
  /** A channel link's channel. */
  channel: { uuid: string | null; name: string | null; emoji: string | null } | null;
}

const LINK_BASE = 'https://status.app/';
const MULTICODEC_SECP256K1 = [0xe7, 0x01];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** status-go reads at most 4 KiB of a link's data; more is not a link it made. */
const MAX_DATA_BYTES = 4096;

/** Reads a community link, key or id; throws CommunityLinkError saying what is wrong. */
export function parseCommunityRef(input: string): StatusCommunityRef {
  const text = input.trim();
  if (text === '') throw new CommunityLinkError('empty: paste a community link (https://status.app/c/…), its key (zQ3sh…) or its id (0x…)');
  if (/^https?:\/\//i.test(text) || text.startsWith('status.app/')) return parseLink(text);
  if (text.startsWith('z')) return refOf(keyBytes(text), 'key');
  if (/^0x/i.test(text)) return refOf(idBytes(text), 'id');
  throw new CommunityLinkError('not a Status community link (https://status.app/c/…#zQ3sh…), key (zQ3sh…) or id (0x…)');
}

function parseLink(text: string): StatusCommunityRef {
  if (!text.startsWith(LINK_BASE)) {
    throw new CommunityLinkError(`not a Status link: a community link starts with ${LINK_BASE}c/ or ${LINK_BASE}c#`);
  }
  const rest = text.slice(LINK_BASE.length);
  const hashAt = rest.indexOf('#');
  if (rest.startsWith('u/') || rest.startsWith('u#')) throw new CommunityLinkError('a link to a Status user, not to a community');
  if (!(rest.startsWith('c/') || rest.startsWith('c#') || rest.startsWith('cc/'))) {
    throw new CommunityLinkError('not a community link: it should start with https://status.app/c/, /c# or /cc/');
  }
  if (hashAt < 0) throw new CommunityLinkError('the link has no "#": the community key follows it');
  const key = rest.slice(hashAt + 1);
  if (key === '') throw new CommunityLinkError('the link has nothing after "#", where the community key goes');
  const path = rest.slice(0, hashAt);
  const ref = refOf(keyBytes(key), 'link');
  if (path.startsWith('cc/')) {
    const part = path.slice(3);
    if (part === '') throw new CommunityLinkError('a channel link with no channel');
    if (UUID.test(part)) return { ...ref, channel: { uuid: part, name: null, emoji: null } };
    const channel = readChannel(urlData(part));
    return { ...ref, display: channel.community, channel: { uuid: channel.uuid, name: channel.name, emoji: channel.emoji } };
  }
  if (path.startsWith('c/') && path.length > 2) return { ...ref, display: readCommunity(urlData(path.slice(2))) };
  if (path !== 'c' && path !== 'c/') throw new CommunityLinkError('not a community link');
  return ref;
}

function refOf(key: Uint8Array, from: StatusCommunityRef['from']): StatusCommunityRef {
  return { id: `0x${Buffer.from(key).toString('hex')}`, key: encodeCommunityKey(key), from, display: null, channel: null };
}

/** The 33 bytes of a `zQ3sh…` key, checked to be a secp256k1 point. */
function keyBytes(text: string): Uint8Array {
  if (!text.startsWith('z')) throw new CommunityLinkError('the community key should start with "z" (base58btc), as zQ3sh… keys do');
  let bytes: Uint8Array;
  try {
    bytes = base58Decode(text.slice(1));
  } catch (err) {
    if (err instanceof Base58Error) throw new CommunityLinkError(`the community key is not base58: ${err.message}`);
    throw err;
  }
  if (bytes[0] !== MULTICODEC_SECP256K1[0] || bytes[1] !== MULTICODEC_SECP256K1[1]) {
    throw new CommunityLinkError('the key is not a secp256k1 public key (its multicodec is not e7 01)');
  }
  return checkedPoint(bytes.subarray(2), 'the community key');
}

function idBytes(text: string): Uint8Array {
  const hex = text.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new CommunityLinkError('the community id is not hex');
  if (hex.length !== 66) throw new CommunityLinkError(`a community id is 0x and 66 hex digits (a 33-byte compressed key); this one has ${hex.length}`);
  return checkedPoint(Uint8Array.from(Buffer.from(hex, 'hex')), 'the community id');
}

function checkedPoint(key: Uint8Array, what: string): Uint8Array {
  if (key.length !== 33) throw new CommunityLinkError(`${what} is ${key.length} bytes, not a 33-byte compressed key`);
  if (key[0] !== 0x02 && key[0] !== 0x03) throw new CommunityLinkError(`${what} is not a compressed key (it must begin 02 or 03)`);
  try {
    secp256k1.ProjectivePoint.fromHex(key).assertValidity();
  } catch {
    throw new CommunityLinkError(`${what} is not a point on secp256k1: no community has it`);
  }
  return Uint8Array.from(key);
}

/** A community's key as links write it: `z` + base58btc(e7 01 ‖ key). */
export function encodeCommunityKey(key: Uint8Array): string {
  return `z${base58Encode(Uint8Array.from([...MULTICODEC_SECP256K1, ...key]))}`;
}

// ---- the data part -------------------------------------------------------------

function urlData(part: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(part)) throw new CommunityLinkError('the link data is not URL-safe base64');
  const compressed = Buffer.from(part, 'base64url');
  let raw: Buffer;
  try {
    raw = brotliDecompressSync(compressed, { maxOutputLength: MAX_DATA_BYTES });
  } catch {
    throw new CommunityLinkError('the link data does not decompress (Brotli): the link is damaged or cut short');
  }
  // URLData: field 1, the Community or Channel protobuf.
  const content = fields(raw, 'the link data').get(1)?.bytes;
  if (content === undefined) throw new CommunityLinkError('the link data holds no community');
  return content;
}

interface Field {
  bytes?: Uint8Array;
  value?: bigint;
  /** Every value of a repeated varint field, packed or not. */
  values: bigint[];
}

function fields(bytes: Uint8Array, what: string): Map<number, Field> {
  const out = new Map<number, Field>();
  try {
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const tag = r.varint();
      const n = Math.floor(tag / 8);
      const wire = tag & 7;
      const f = out.get(n) ?? { values: [] };
      out.set(n, f);
      if (wire === 0) {
        f.value = r.varint64();
        f.values.push(f.value);
      } else if (wire === 2) {
        f.bytes = r.bytes();
      } else {
        r.skip(wire);
      }
    }
  } catch (err) {
    if (err instanceof ProtoError) throw new CommunityLinkError(`${what} is not what Status writes (${err.message})`);
    throw err;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const text = (f: Field | undefined): string | null => (f?.bytes === undefined ? null : utf8.decode(f.bytes));

/** Community: 1 display_name, 2 description, 3 members_count, 4 color, 5 tag_indices (packed). */
function readCommunity(bytes: Uint8Array): LinkDisplay {
  const f = fields(bytes, 'the community in the link');
  const tagsField = f.get(5);
  const tags = tagsField === undefined ? [] : [...tagsField.values, ...(tagsField.bytes === undefined ? [] : packed(tagsField.bytes))].map(Number);
  const members = f.get(3)?.value;
  return { name: text(f.get(1)), description: text(f.get(2)), membersCount: members === undefined ? null : Number(members), color: text(f.get(4)), tags };
}

/** Channel: 1 display_name, 2 description, 3 emoji, 4 color, 5 community, 6 uuid. */
function readChannel(bytes: Uint8Array): { name: string | null; emoji: string | null; uuid: string | null; community: LinkDisplay | null } {
  const f = fields(bytes, 'the channel in the link');
  const community = f.get(5)?.bytes;
  return { name: text(f.get(1)), emoji: text(f.get(3)), uuid: text(f.get(6)), community: community === undefined ? null : readCommunity(community) };
}

function packed(bytes: Uint8Array): bigint[] {
  const r = new ProtoReader(bytes);
  const out: bigint[] = [];
  while (!r.done) out.push(r.varint64());
  return out;
}

// ---- what a joined community's traffic travels on ---------------------------------

/**
 * status-go's content topic of a chat id (pkg/messaging/layers/transport/topic.go
 * ToTopic, then ContentTopic): the first 4 bytes of keccak256 of the chat id as
 * a string (its `0x` included), as `/waku/1/0x…/rfc26`.
 */
export function statusContentTopic(chatId: string): string {
  return `/waku/1/0x${Buffer.from(keccak_256(new TextEncoder().encode(chatId))).subarray(0, 4).toString('hex')}/rfc26`;
}

export interface StatusTopic {
  /** What travels there. */
  purpose: string;
  /** The chat id its content topic is derived from. */
  chatId: string;
  contentTopic: string;
  /** The shards it is published and listened on. */
  pubsubTopics: string[];
}

/**
 * The content topics a joined community's traffic travels on, as status-go's
 * DefaultFilters (internal/protocol/messenger_communities.go) subscribes them:
 * the community id (its description and other owner broadcasts), the universal
 * chat `<id>-memberUpdate` (every channel's messages, edits, reactions, pins),
 * both on shard 32; and the uncompressed key without `0x` (requests to join and
 * other control messages to the owner), on 32 and on 64 until 64 retires.
 */
export function statusCommunityTopics(id: string): StatusTopic[] {
  const key = idBytes(id);
  const uncompressed = Buffer.from(secp256k1.ProjectivePoint.fromHex(key).toRawBytes(false)).toString('hex');
  const shard = (n: number): string => shardTopic(STATUS_CLUSTER_ID, n);
  const topic = (purpose: string, chatId: string, shards: number[]): StatusTopic => ({
    purpose,
    chatId,
    contentTopic: statusContentTopic(chatId),
    pubsubTopics: shards.map(shard),
  });
  const canonical = `0x${Buffer.from(key).toString('hex')}`;
  return [
    topic('community description and owner broadcasts', canonical, [32]),
    topic('channel messages (the universal chat)', `${canonical}-memberUpdate`, [32]),
    topic('requests to join and other control messages', uncompressed, [32, 64]),
  ];
}
