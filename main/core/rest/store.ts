/**
 * nwaku's GET /store/v3/messages: a Store v3 query from query parameters
 * (store-params.ts), answered from this node's archive when no peerAddr is
 * given — through the store server's own answerRequest — or by the named peer
 * through Keeper's Store v3 client, in nwaku's JSON: requestId, statusCode,
 * statusDesc, messages ({messageHash: 0x…, message, pubsubTopic}) and
 * paginationCursor (0x…).
 *
 * Errors as nwaku gives them: bad parameters 400; the own archive's refusal
 * 500 "error in handleSelfStoreRequest: …"; a peer's refusal 200 with its
 * status code and description, but 429 for a rate-limited one; a peer that
 * cannot be reached 200 with code 504 (PEER_DIAL_FAILURE); no answer within
 * 5 s 500.
 */
import { randomUUID } from 'node:crypto';
import type { Multiaddr } from '@multiformats/multiaddr';
import { decodeWakuMessage } from '../message/wire.ts';
import type { ResponseFields, StoreQueryResponse } from '../store/codec.ts';
import { StoreStatus } from '../store/codec.ts';
import { parsePeerAddress } from '../util/peer-address.ts';
import type { RestBackend } from './backend.ts';
import { fieldsOfProto, fieldsOfWire, storeMessageJson } from './message-json.ts';
import { json, text } from './router.ts';
import type { Reply, Route } from './router.ts';
import { parseStoreParams } from './store-params.ts';

export const STORE_TIMEOUT_MS = 5000;

const hex0x = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

/** nwaku's StoreError text for a status code and description (`BAD_REQUEST: …`). */
export function storeErrorText(code: number, desc: string): string {
  switch (code) {
    case StoreStatus.BAD_RESPONSE:
      return `BAD_RESPONSE: ${desc}`;
    case StoreStatus.BAD_REQUEST:
      return `BAD_REQUEST: ${desc}`;
    case StoreStatus.TOO_MANY_REQUESTS:
      return 'TOO_MANY_REQUESTS';
    case StoreStatus.SERVICE_UNAVAILABLE:
      return 'SERVICE_UNAVAILABLE';
    case 504:
      return `PEER_DIAL_FAILURE: ${desc}`;
    default:
      return 'UNKNOWN';
  }
}

/** nwaku's JSON of the archive's answer. */
export function localResponseJson(r: ResponseFields): Record<string, unknown> {
  const out: Record<string, unknown> = {
    requestId: r.requestId,
    statusCode: r.statusCode,
    statusDesc: r.statusDesc,
    messages: (r.messages ?? []).map((m) => {
      const entry: Record<string, unknown> = { messageHash: hex0x(m.hash) };
      if (m.message !== undefined) entry.message = storeMessageJson(fieldsOfWire(decodeWakuMessage(m.message)));
      if (m.pubsubTopic !== undefined) entry.pubsubTopic = m.pubsubTopic;
      return entry;
    }),
  };
  if (r.cursor !== undefined) out.paginationCursor = hex0x(r.cursor);
  return out;
}

/** nwaku's JSON of a peer's successful answer. */
export function peerResponseJson(r: StoreQueryResponse): Record<string, unknown> {
  const out: Record<string, unknown> = {
    requestId: r.requestId,
    statusCode: r.statusCode ?? 0,
    statusDesc: r.statusDesc ?? '',
    messages: r.messages.map((m) => {
      const entry: Record<string, unknown> = { messageHash: hex0x(m.messageHash ?? new Uint8Array(0)) };
      if (m.message !== undefined) entry.message = storeMessageJson(fieldsOfProto(m.message));
      if (m.pubsubTopic !== undefined) entry.pubsubTopic = m.pubsubTopic;
      return entry;
    }),
  };
  if (r.paginationCursor !== undefined) out.paginationCursor = hex0x(r.paginationCursor);
  return out;
}

/** nwaku's answer when the query failed at or before the peer: no messages, the error's code and words. */
function failed(code: number, desc: string): Reply {
  const known = [300, 400, 429, 503, 504].includes(code);
  return json(200, { requestId: '', statusCode: known ? code : 0, statusDesc: storeErrorText(code, desc), messages: [] });
}

async function askPeer(b: RestBackend, peerAddr: string, addr: Multiaddr, request: Parameters<RestBackend['queryPeer']>[1]): Promise<Reply> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STORE_TIMEOUT_MS)));
  try {
    // Keeper's client gets a moment longer, so that its own time-out is never mistaken for a dial failure.
    const answer = await Promise.race([b.queryPeer(addr, request, STORE_TIMEOUT_MS + 1000), timeout]);
    if (answer === 'timeout') return text(500, 'No history response received (timeout)');
    const code = answer.statusCode ?? 0;
    if (code === StoreStatus.TOO_MANY_REQUESTS) return text(429, 'Request rate limit reached');
    if (code !== StoreStatus.OK) return failed(code, answer.statusDesc ?? '');
    return json(200, peerResponseJson(answer));
  } catch {
    return failed(504, peerAddr);
  } finally {
    clearTimeout(timer);
  }
}

export function storeRoutes(b: RestBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/store/v3/messages',
      handler: ({ query }) => {
        const parsed = parseStoreParams(query, randomUUID());
        if (!parsed.ok) return text(400, parsed.error);
        const { peerAddr, request } = parsed.value;
        if (peerAddr === undefined) {
          const r = b.answerLocal(request);
          if (r.statusCode !== StoreStatus.OK) return text(500, `error in handleSelfStoreRequest: ${storeErrorText(r.statusCode, r.statusDesc)}`);
          return json(200, localResponseJson(r));
        }
        let addr: Multiaddr;
        try {
          addr = parsePeerAddress(peerAddr).addr;
        } catch (err) {
          return text(400, `Failed parsing remote peer info: ${(err as Error).message}`);
        }
        return askPeer(b, peerAddr, addr, request);
      },
    },
  ];
}
