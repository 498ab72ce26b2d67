/**
 * Keeper's own Store v3 client: one request per stream over a stream of its
 * own, with the answer's status code decided here. The @waku/sdk client reads
 * "no connection" as "no messages"; a gap filler must tell the two apart.
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { randomUUID } from 'node:crypto';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { RawStoreResponse, StoreQueryRequest, StoreQueryResponse } from './codec.ts';
import { decodeResponse, decodeResponseRaw, encodeRequest, maxResponseBytes, STORE_CODEC } from './codec.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../message/validate.ts';

export interface StoreQueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The network's message cap, which bounds an answer's size (default 150 KiB). */
  maxMessageBytes?: number;
}

/** Sends one request and returns the decoded answer, whatever its status. Throws on transport failure. */
export async function storeQuery(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId | Multiaddr,
  request: Partial<StoreQueryRequest>,
  opts: StoreQueryOptions = {},
): Promise<StoreQueryResponse> {
  return decodeResponse(await exchange(node, peer, request, opts));
}

/** As storeQuery, with each message left as its encoded bytes (what a filler checks and stores). */
export async function storeQueryRaw(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId | Multiaddr,
  request: Partial<StoreQueryRequest>,
  opts: StoreQueryOptions = {},
): Promise<RawStoreResponse> {
  return decodeResponseRaw(await exchange(node, peer, request, opts));
}

async function exchange(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId | Multiaddr,
  request: Partial<StoreQueryRequest>,
  opts: StoreQueryOptions,
): Promise<Uint8ArrayList> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 20_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const req: Partial<StoreQueryRequest> = {
    requestId: randomUUID(),
    includeData: true,
    paginationForward: true,
    ...request,
  };
  const stream = await node.dialProtocol(peer, STORE_CODEC, { signal });
  try {
    const io = lpStream(stream, { maxDataLength: maxResponseBytes(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) });
    await io.write(encodeRequest(req), { signal });
    await stream.closeWrite({ signal });
    const answer = await io.read({ signal });
    await stream.close({ signal });
    return answer;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
