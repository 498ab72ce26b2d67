/**
 * Keeper's AutoNAT v1 server: asked by a connected peer to dial it back, it
 * dials a fresh connection to the addresses the peer names — only those on the
 * IP this node sees it at, not private, over a transport it has — and answers
 * OK or E_DIAL_ERROR. Keepers check each other this way. Bounded: one question
 * at a time per peer and a few dial-backs a minute in all, so no one can use
 * it to make this node dial strangers.
 */
import type { IncomingStreamData, Libp2p } from '@libp2p/interface';
import { isPrivate } from '@libp2p/utils/multiaddr/is-private';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { AUTONAT_CODEC, decodeDialRequest, encodeDialResponse } from './dial-back.ts';

const OK = 0;
const E_DIAL_ERROR = 100;
const E_DIAL_REFUSED = 101;
const E_BAD_REQUEST = 200;

export interface AutonatServerOptions {
  dialTimeoutMs?: number;
  maxPerMinute?: number;
}

export class AutonatServer {
  private readonly node: Libp2p;
  private readonly dialTimeoutMs: number;
  private readonly maxPerMinute: number;
  private readonly busy = new Set<string>();
  private recent: number[] = [];

  constructor(node: Libp2p, opts: AutonatServerOptions = {}) {
    this.node = node;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 10_000;
    this.maxPerMinute = opts.maxPerMinute ?? 30;
  }

  async start(): Promise<void> {
    await this.node.handle(AUTONAT_CODEC, (data) => void this.serve(data), { maxInboundStreams: 2, maxOutboundStreams: 4 });
  }

  async stop(): Promise<void> {
    await this.node.unhandle(AUTONAT_CODEC);
  }

  private async serve({ stream, connection }: IncomingStreamData): Promise<void> {
    const signal = AbortSignal.timeout(this.dialTimeoutMs + 5_000);
    const lp = lpStream(stream, { maxDataLength: 8192 });
    try {
      const request = (await lp.read({ signal })).subarray();
      const answer = await this.answer(request, connection);
      await lp.write(answer, { signal });
      await stream.close({ signal });
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async answer(request: Uint8Array, connection: IncomingStreamData['connection']): Promise<Uint8Array> {
    let dial;
    try {
      dial = decodeDialRequest(request);
    } catch {
      return encodeDialResponse(E_BAD_REQUEST, 'not a dial request');
    }
    const asker = connection.remotePeer;
    const own = asker.toMultihash().bytes;
    if (own.length !== dial.id.length || !own.every((b, i) => b === dial.id[i])) return encodeDialResponse(E_BAD_REQUEST, 'peer id mismatch');
    const seenAt = connection.remoteAddr.toOptions().host;
    const targets: Multiaddr[] = [];
    for (const bytes of dial.addrs) {
      try {
        const ma = multiaddr(bytes);
        const o = ma.toOptions();
        if (o.host !== seenAt || isPrivate(ma) || o.transport !== 'tcp') continue;
        targets.push(ma.getPeerId() === null ? ma.encapsulate(`/p2p/${asker.toString()}`) : ma);
      } catch {
        // not an address this node can read
      }
    }
    if (targets.length === 0) return encodeDialResponse(E_DIAL_REFUSED, 'no dialable addresses');
    const key = asker.toString();
    const now = Date.now();
    this.recent = this.recent.filter((t) => now - t < 60_000);
    if (this.busy.has(key) || this.recent.length >= this.maxPerMinute) return encodeDialResponse(E_DIAL_REFUSED, 'too many dial-backs');
    this.busy.add(key);
    this.recent.push(now);
    let error = 'no address answered';
    try {
      for (const target of targets) {
        try {
          // A new connection: the one the question came over proves nothing.
          const conn = await this.node.dial(target, { force: true, signal: AbortSignal.timeout(this.dialTimeoutMs) });
          const reached = conn.remoteAddr.decapsulateCode(421).equals(target.decapsulateCode(421));
          if (conn.id !== connection.id) await conn.close().catch(() => undefined);
          if (reached) return encodeDialResponse(OK, '', target.decapsulateCode(421).bytes);
          error = `reached ${conn.remoteAddr.toString()} instead`;
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
      }
    } finally {
      this.busy.delete(key);
    }
    return encodeDialResponse(E_DIAL_ERROR, error.slice(0, 200), targets[0]?.decapsulateCode(421).bytes);
  }
}
