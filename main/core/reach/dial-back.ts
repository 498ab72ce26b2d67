/**
 * AutoNAT v1 (`/libp2p/autonat/1.0.0`, libp2p's autonat-v1 spec), both sides:
 * the question "dial me back at this address" and its answer. Keeper does not
 * run @libp2p/autonat: its 2.x server dials back with `openConnection`, which
 * hands back the asker's existing connection, finds its remote address
 * "unexpected", closes that very connection and answers E_DIAL_ERROR — every
 * connected asker is disconnected and told it is unreachable; and its client
 * keeps its answers to itself, needing four to eight from different networks.
 * The server here dials a new connection (`force`), only the IP it sees the
 * asker at, and closes only that one.
 *
 * Message { type(1) enum, dial(2) { peer(1) { id(1) bytes, addrs(2) bytes* } },
 *           dialResponse(3) { status(1) enum, statusText(2) string, addr(3) bytes } }
 * Status: 0 OK, 100 E_DIAL_ERROR, 101 E_DIAL_REFUSED, 200 E_BAD_REQUEST, 300 E_INTERNAL_ERROR.
 */
import type { Connection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { ProtoReader } from '../util/proto-reader.ts';

export const AUTONAT_CODEC = '/libp2p/autonat/1.0.0';

export type DialBackStatus = 'ok' | 'dial-error' | 'refused' | 'bad-request' | 'internal-error' | 'unknown';

export interface DialBackAnswer {
  status: DialBackStatus;
  text: string;
}

const STATUS: Record<number, DialBackStatus> = { 0: 'ok', 100: 'dial-error', 101: 'refused', 200: 'bad-request', 300: 'internal-error' };

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function field(num: number, bytes: Uint8Array): number[] {
  return [(num << 3) | 2, ...varint(bytes.length), ...bytes];
}

export function encodeDialRequest(self: PeerId, addrs: readonly Multiaddr[]): Uint8Array {
  const peer = Uint8Array.from([...field(1, self.toMultihash().bytes), ...addrs.flatMap((a) => field(2, a.bytes))]);
  const dial = Uint8Array.from(field(1, peer));
  return Uint8Array.from([0x08, 0x00, ...field(2, dial)]);
}

/** The asker's peer id (multihash bytes) and addresses from a DIAL message; throws on anything else. */
export function decodeDialRequest(bytes: Uint8Array): { id: Uint8Array; addrs: Uint8Array[] } {
  const r = new ProtoReader(bytes);
  let type = -1;
  let id: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  while (!r.done) {
    const tag = r.varint();
    if (tag === 0x08) type = r.varint();
    else if (tag === 0x12) {
      const dial = new ProtoReader(r.bytes());
      while (!dial.done) {
        const t = dial.varint();
        if (t !== 0x0a) {
          dial.skip(t & 7);
          continue;
        }
        const peer = new ProtoReader(dial.bytes());
        while (!peer.done) {
          const p = peer.varint();
          if (p === 0x0a) id = peer.bytes().slice();
          else if (p === 0x12) addrs.push(peer.bytes().slice());
          else peer.skip(p & 7);
        }
      }
    } else r.skip(tag & 7);
  }
  if (type !== 0 || id === undefined) throw new Error('not a dial request');
  return { id, addrs };
}

export function encodeDialResponse(status: number, text: string, addr?: Uint8Array): Uint8Array {
  const inner = [0x08, ...varint(status), ...field(2, new TextEncoder().encode(text)), ...(addr === undefined ? [] : field(3, addr))];
  return Uint8Array.from([0x08, 0x01, ...field(3, Uint8Array.from(inner))]);
}

export function decodeDialResponse(bytes: Uint8Array): DialBackAnswer {
  const r = new ProtoReader(bytes);
  let type = -1;
  let answer: DialBackAnswer = { status: 'unknown', text: 'no dial response in the answer' };
  while (!r.done) {
    const tag = r.varint();
    if (tag === 0x08) type = r.varint();
    else if (tag === 0x1a) {
      const inner = new ProtoReader(r.bytes());
      let status = -1;
      let text = '';
      while (!inner.done) {
        const t = inner.varint();
        if (t === 0x08) status = inner.varint();
        else if (t === 0x12) text = new TextDecoder().decode(inner.bytes());
        else inner.skip(t & 7);
      }
      answer = { status: STATUS[status] ?? 'unknown', text };
    } else r.skip(tag & 7);
  }
  if (type !== 1) return { status: 'unknown', text: `not a dial response (type ${type})` };
  return answer;
}

/** Asks the peer on this connection to dial `addr` back; resolves with its answer, rejects when it gives none in time. */
export async function askDialBack(connection: Connection, self: PeerId, addr: Multiaddr, timeoutMs: number): Promise<DialBackAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const stream = await connection.newStream(AUTONAT_CODEC, { signal });
  try {
    const lp = lpStream(stream, { maxDataLength: 8192 });
    await lp.write(encodeDialRequest(self, [addr]), { signal });
    const answer = decodeDialResponse((await lp.read({ signal })).subarray());
    await stream.close({ signal }).catch(() => stream.abort(new Error('closing')));
    return answer;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
