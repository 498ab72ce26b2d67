/**
 * A bare libp2p node that serves a prepared archive over Store v3 and does
 * nothing else: no relay, no gap filling of its own. Seeded with omissions or
 * forgeries, or given a misbehaviour, it is the dishonest store peer of the
 * history and reliability tests. Without `attest` it is unattested, as nwaku
 * is; with it, it signs coverage answers claiming what it is told to claim.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Libp2p } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { proto_message } from '@waku/proto';
import { randomBytes } from 'node:crypto';
import { Archive } from '../../main/core/archive/archive.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { messageHash } from '../../main/core/message/hash.ts';
import { answerRequest } from '../../main/core/store/answer.ts';
import { decodeRequest, encodeResponse, STORE_CODEC } from '../../main/core/store/codec.ts';
import { storeQuery } from '../../main/core/store/client.ts';
import { StoreServer } from '../../main/core/store/server.ts';
import type { ServedRequest } from '../../main/core/store/server.ts';
import { hex } from './messages.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { CoverageServer } from '../../main/core/coverage/server.ts';
import { intersect } from '../../main/core/util/intervals.ts';
import type { Interval } from '../../main/core/util/intervals.ts';

/**
 * honest: the StoreServer itself. replay: every answer is the first page again.
 * slow: answers honestly after `delayMs`. endless: every answer is a page of new,
 * well-formed messages and a cursor, for ever. forge-bodies: lists hashes
 * honestly, but every message it sends has its payload changed (its hash no
 * longer matches).
 */
export type Behaviour = 'honest' | 'replay' | 'slow' | 'endless' | 'forge-bodies';

export interface StoreNode {
  node: Libp2p;
  addr: string;
  peerId: string;
  /** Requests answered. */
  served: () => number;
  stop(): Promise<void>;
}

export interface StoreNodeOptions {
  /** Answer the coverage protocol, claiming to hold all of any range asked, or these stretches of it. */
  attest?: 'all' | Interval[];
  /** Sign coverage answers with a key that is not the node's: every one is badly signed. */
  forgeSignature?: boolean;
  /** Each Store v3 request the honest server answered: what it sent. */
  onServed?: (served: ServedRequest) => void;
}

export async function startStoreNode(
  messages: readonly ArchiveMessage[],
  behaviour: Behaviour = 'honest',
  delayMs = 3000,
  opts: StoreNodeOptions = {},
): Promise<StoreNode> {
  const archive = Archive.open(':memory:');
  archive.insert(messages);
  const privateKey = await generateKeyPair('secp256k1');
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: { identify: identify() },
  });
  let served = 0;
  let server: StoreServer | undefined;
  if (behaviour === 'honest') {
    server = new StoreServer(archive, { rateLimit: { capacity: 10_000, perSecond: 10_000 }, onServed: (r) => {
      served++;
      opts.onServed?.(r);
    } });
    await server.start(node);
  } else {
    let fabricated = 0;
    await node.handle(STORE_CODEC, async ({ stream }) => {
      try {
        const io = lpStream(stream);
        const req = decodeRequest(await io.read());
        let answer;
        if (behaviour === 'replay') {
          answer = answerRequest(archive, { ...req, paginationCursor: undefined });
        } else if (behaviour === 'forge-bodies') {
          const honest = answerRequest(archive, req);
          answer = { ...honest, messages: honest.messages?.map((e) => (e.message === undefined ? e : { ...e, message: tamper(e.message) })) };
        } else if (behaviour === 'slow') {
          await new Promise((r) => setTimeout(r, delayMs));
          answer = answerRequest(archive, req);
        } else {
          // endless: 100 new messages inside the asked time, in order, and a cursor.
          const base = (req.timeStart ?? BigInt(Date.now()) * 1_000_000n) + BigInt(fabricated) * 1000n;
          const entries = Array.from({ length: 100 }, (_, i) => {
            const m = { payload: new Uint8Array(randomBytes(16)), contentTopic: '/app/1/endless/proto', timestamp: base + BigInt(i) * 10n, version: 0 };
            return { hash: messageHash(req.pubsubTopic ?? '', m), message: proto_message.WakuMessage.encode(m), pubsubTopic: req.pubsubTopic };
          });
          fabricated += 100;
          answer = { requestId: req.requestId, statusCode: 200, statusDesc: 'OK', messages: entries, cursor: entries[99]?.hash };
        }
        served++;
        await io.write(encodeResponse(answer));
        await stream.close();
      } catch {
        stream.abort(new Error('store node failed'));
      }
    });
  }
  let coverage: CoverageServer | undefined;
  if (opts.attest !== undefined) {
    const claim = opts.attest;
    const signer = opts.forgeSignature === true ? await generateKeyPair('secp256k1') : privateKey;
    coverage = new CoverageServer((_t, _c, range) => (claim === 'all' ? [range] : intersect(claim, [range])), signer, node.peerId.toString());
    await coverage.start(node);
  }
  const addr = node.getMultiaddrs()[0]?.toString() ?? '';
  return {
    node,
    addr,
    peerId: node.peerId.toString(),
    served: () => served,
    stop: async () => {
      await server?.stop();
      await coverage?.stop();
      await node.stop();
      archive.close();
    },
  };
}

/** Every hash a Store v3 node serves on a topic, in order, read page by page. */
export async function servedHashes(from: Pick<Libp2p, 'dialProtocol'>, target: Multiaddr, pubsubTopic: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: Uint8Array | undefined;
  for (let i = 0; i < 10_000; i++) {
    const res = await storeQuery(from, target, { pubsubTopic, includeData: false, paginationLimit: 100n, paginationCursor: cursor });
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.statusDesc}`);
    out.push(...res.messages.map((m) => hex(m.messageHash ?? new Uint8Array())));
    cursor = res.paginationCursor;
    if (cursor === undefined) return out;
  }
  throw new Error('more than 10 000 pages');
}

/** The same message with its payload changed: it decodes, but no longer hashes to its hash. */
function tamper(bytes: Uint8Array): Uint8Array {
  const m = proto_message.WakuMessage.decode(bytes);
  return proto_message.WakuMessage.encode({ ...m, payload: new Uint8Array([...m.payload, 0x66]) });
}
