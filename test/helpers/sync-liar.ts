/**
 * A dishonest sync peer on a bare libp2p node: it answers reconciliation (and
 * may push over transfer) the way a liar would — endless mismatching
 * fingerprints, item sets of messages it does not have, frames too large,
 * silence, garbage, pushes nobody asked for — or dials a node to lie to it.
 */
import type { Libp2p, Stream } from '@libp2p/interface';
import { startStoreClient } from './store-client.ts';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { randomBytes } from 'node:crypto';
import { decodeRanges, encodeRanges, RangeType } from '../../main/core/sync/codec.ts';
import type { SyncRange } from '../../main/core/sync/codec.ts';
import { boundAt } from '../../main/core/sync/ids.ts';
import { lowerBounds } from '../../main/core/sync/reconcile.ts';
import { partitionTimes } from '../../main/core/sync/storage.ts';
import { encodeMessageAndTopic, RECONCILIATION_CODEC, TRANSFER_CODEC } from '../../main/core/sync/transfer-codec.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';

export type Lie = 'split-forever' | 'phantom-items' | 'huge-frame' | 'stall' | 'unsolicited-push';

export interface Liar {
  node: Libp2p;
  addr: Multiaddr;
  stop(): Promise<void>;
}

const random32 = (): Uint8Array => new Uint8Array(randomBytes(32));

/** A plain loopback node (the store client's) that the liar's handlers are set on. */
export function startLiarNode(): Promise<Libp2p> {
  return startStoreClient();
}

/** A responder that lies in one way; `push` are the messages it pushes unasked ('unsolicited-push'). */
export async function startLiar(lie: Lie, push: readonly ArchiveMessage[] = []): Promise<Liar> {
  const node = await startLiarNode();
  await node.handle(RECONCILIATION_CODEC, ({ stream, connection }) => {
    void (async () => {
      const io = lpStream(stream);
      try {
        for (;;) {
          const frame = (await io.read()).subarray();
          if (lie === 'stall') return await new Promise((r) => setTimeout(r, 60_000).unref());
          if (lie === 'huge-frame') {
            // A length prefix of 100 MB, then a little of it.
            await stream.sink([Uint8Array.of(0x80, 0xc2, 0xd7, 0x2f), new Uint8Array(1024)]);
            return;
          }
          if (lie === 'unsolicited-push') {
            const t = await node.dialProtocol(connection.remotePeer, TRANSFER_CODEC);
            const tio = lpStream(t);
            for (const m of push) await tio.write(encodeMessageAndTopic(m.pubsubTopic, m.message));
            await t.close();
            await io.write(Uint8Array.of(0));
            return;
          }
          const p = decodeRanges(frame);
          if (p.ranges.length === 0) return;
          const out = lie === 'split-forever' ? splitForever(p.start, p.ranges) : phantoms(p.start, p.ranges);
          await io.write(encodeRanges({ ...p, ranges: out }));
        }
      } catch {
        stream.abort(new Error('liar done'));
      }
    })();
  });
  return { node, addr: multiaddr(node.getMultiaddrs()[0]?.toString() ?? ''), stop: async () => void (await node.stop()) };
}

/** Every range answered as eight fresh random fingerprints: it never agrees. */
function splitForever(start: bigint, ranges: readonly SyncRange[]): SyncRange[] {
  const lowers = lowerBounds(start, ranges);
  return ranges.flatMap((r, i) => {
    const times = partitionTimes((lowers[i] as { time: bigint }).time, r.upper.time, 8);
    if (times === null) return [{ type: RangeType.Fingerprint, upper: r.upper, fingerprint: random32() }];
    return times.slice(1).map((t) => ({ type: RangeType.Fingerprint, upper: boundAt(t), fingerprint: random32() }));
  });
}

/** Every range answered as an item set of twenty messages it made up. */
function phantoms(start: bigint, ranges: readonly SyncRange[]): SyncRange[] {
  const lowers = lowerBounds(start, ranges);
  return ranges.map((r, i) => {
    if (r.type === RangeType.Skip || (r.type === RangeType.ItemSet && r.reconciled)) return { type: RangeType.Skip, upper: r.upper };
    const lo = (lowers[i] as { time: bigint }).time;
    const step = (r.upper.time - lo) / 21n;
    const items = Array.from({ length: 20 }, (_, k) => ({ time: lo + step * BigInt(k + 1), hash: random32() }));
    return { type: RangeType.ItemSet, upper: r.upper, items, reconciled: false };
  });
}

/** Dials `target` as an initiator that lies: garbage frames, or mismatching fingerprints for ever. Returns once the stream ends. */
export async function lieTo(node: Libp2p, target: Multiaddr, lie: 'garbage' | 'split-forever', startNs: bigint, endNs: bigint): Promise<number> {
  const stream: Stream = await node.dialProtocol(target, RECONCILIATION_CODEC);
  const io = lpStream(stream);
  let frames = 0;
  try {
    let ranges: SyncRange[] = [{ type: RangeType.Fingerprint, upper: boundAt(endNs), fingerprint: random32() }];
    for (let i = 0; i < 1000; i++) {
      const frame = lie === 'garbage' ? new Uint8Array(randomBytes(200)) : encodeRanges({ pubsubTopics: [], contentTopics: [], start: startNs, ranges });
      await io.write(frame);
      frames++;
      const answer = decodeRanges((await io.read({ signal: AbortSignal.timeout(10_000) })).subarray());
      if (answer.ranges.length === 0) break;
      ranges = splitForever(answer.start, answer.ranges);
    }
  } catch {
    // The node cut us off.
  }
  stream.abort(new Error('liar done'));
  return frames;
}
