/**
 * Waku Sync 2.0 on a libp2p node, wire-compatible with nwaku's store sync:
 * `/vac/waku/reconciliation/1.0.0` finds what two archives hold differently
 * over a time range, `/vac/waku/transfer/1.0.0` carries the messages across.
 * `syncWith` initiates with one peer; any peer may initiate with us, rate
 * limited, a few at a time. Every session is bounded in rounds, items, bytes
 * and time; a peer that breaks a bound or the protocol is cut off and counted
 * by reason. Messages received are checked (transfer.ts) and stored through
 * the archive writer only; messages pushed are read from the archive.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Archive } from '../archive/archive.ts';
import type { ArchiveWriter } from '../archive/writer.ts';
import type { MessageRules } from '../message/validate.ts';
import type { Interval } from '../util/intervals.ts';
import { RateLimiter } from '../util/rate-limit.ts';
import type { RateLimit } from '../util/rate-limit.ts';
import { msToNs } from '../util/time.ts';
import { ArchiveSyncIndex } from './archive-storage.ts';
import { Frames } from './frames.ts';
import { Pusher } from './push.ts';
import { SyncProtocolError } from './reconcile.ts';
import type { ReconcileParams } from './reconcile.ts';
import { ReconcileSession, windowOf } from './session.ts';
import type { Scope, SessionLimits } from './session.ts';
import { Inbound, TransferReceiver } from './transfer.ts';
import type { RefusedReason } from './transfer.ts';
import { RECONCILIATION_CODEC, TRANSFER_CODEC } from './transfer-codec.ts';
import { SyncTally } from './tally.ts';
import type { SyncCounters, SyncOutcome, SyncResult } from './tally.ts';

export type { SyncCounters, SyncOutcome, SyncResult };

export type SyncNode = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>;

export interface SyncServiceOptions {
  archive: Archive;
  /** The one write path: what peers push is stored through it. */
  writer: ArchiveWriter;
  /** The network's message rules: what a pushed message must pass. */
  rules: MessageRules;
  /** What this node keeps, which bounds what peers may sync with it (empty lists: everything). Read per session. */
  scope?: () => Scope;
  /** The oldest time (ms) this node keeps: what peers ask of before it is skipped, not pushed here. Read per session. */
  keepsFromMs?: () => number;
  /** Sessions a peer may open with us: bursts of `capacity`, then `perSecond`. */
  rateLimit?: RateLimit;
  /** Sessions answered at once; more are refused (an empty frame). */
  maxConcurrent?: number;
  limits?: Partial<SessionLimits>;
  params?: Partial<ReconcileParams>;
  /** Per read and write. */
  idleMs?: number;
  /** The whole reconciliation. */
  sessionMs?: number;
  /** How long to wait, after reconciling, for the messages found missing. */
  transferWaitMs?: number;
  maxFrameBytes?: number;
  /** Messages pushed per session, at most. */
  maxPush?: number;
  /** Each session's end, either role. */
  onSession?: (r: SyncResult) => void;
}

export interface SyncRequest {
  pubsubTopic: string;
  /** Empty or absent: every content topic of the pubsub topic. */
  contentTopics?: readonly string[];
  /** Message timestamps from `start` to `end` ms, both inclusive (as Store v3 time ranges at nwaku). */
  range: Interval;
}

const DEFAULT_RATE: RateLimit = { capacity: 10, perSecond: 0.1 };

export class SyncService {
  private readonly o: SyncServiceOptions;
  private readonly index: ArchiveSyncIndex;
  private readonly receiver: TransferReceiver;
  private readonly limiter: RateLimiter;
  private readonly tally = new SyncTally();
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private node: SyncNode | undefined;
  private answering = 0;

  constructor(o: SyncServiceOptions) {
    this.o = o;
    this.index = new ArchiveSyncIndex(o.archive);
    this.limiter = new RateLimiter(o.rateLimit ?? DEFAULT_RATE);
    this.receiver = new TransferReceiver({
      writer: o.writer,
      rules: o.rules,
      idleMs: o.idleMs ?? 15_000,
      onRefused: (_peer, reason: RefusedReason) => this.tally.refused(reason),
      onStreamCutOff: (_peer, reason) => this.tally.cutOff(`transfer-${reason}`),
    });
  }

  async start(node: SyncNode): Promise<void> {
    this.node = node;
    await node.handle(RECONCILIATION_CODEC, (data) => void this.track(this.answer(data.stream, data.connection)), { maxInboundStreams: 16, runOnLimitedConnection: false });
    await node.handle(TRANSFER_CODEC, (data) => void this.track(this.receiver.handle(data, this.stopping.signal)), { maxInboundStreams: 16, runOnLimitedConnection: false });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.node?.unhandle([RECONCILIATION_CODEC, TRANSFER_CODEC]);
    await Promise.allSettled([...this.running]);
    this.node = undefined;
  }

  counters(): SyncCounters {
    return this.tally.snapshot();
  }

  /**
   * Reconciles `range` of a pubsub topic (and content topics) with `peer`:
   * what it lacks is pushed to it, what we lack it pushes and is stored.
   * Never throws for what the peer does; the result says how it went.
   */
  async syncWith(peer: PeerId | Multiaddr, req: SyncRequest): Promise<SyncResult> {
    const node = this.node;
    if (node === undefined) throw new Error('the sync service is not started');
    const key = peerKey(peer);
    const scope: Scope = { pubsubTopics: [req.pubsubTopic], contentTopics: [...new Set(req.contentTopics ?? [])] };
    const window = windowOf(msToNs(req.range.start), msToNs(req.range.end));
    return this.track(
      this.converse('initiator', key, (signal) => node.dialProtocol(peer, RECONCILIATION_CODEC, { signal }), (signal) => node.dialProtocol(peer, TRANSFER_CODEC, { signal }), scope, window),
    );
  }

  /** A peer opened a reconciliation stream. */
  private async answer(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const node = this.node;
    if (node === undefined || this.stopping.signal.aborted || !this.limiter.take(peer) || this.answering >= (this.o.maxConcurrent ?? 4)) {
      this.tally.rateLimited();
      // nwaku's refusal: an empty frame.
      const frames = new Frames(stream, { maxFrameBytes: 16, idleMs: 2000, signal: this.stopping.signal });
      await frames.write(new Uint8Array(0)).catch(() => undefined);
      await frames.close();
      return;
    }
    this.answering++;
    try {
      const keepsFrom = this.o.keepsFromMs?.();
      await this.converse(
        'responder',
        peer,
        async () => stream,
        (signal) => node.dialProtocol(connection.remotePeer, TRANSFER_CODEC, { signal }),
        this.o.scope?.() ?? { pubsubTopics: [], contentTopics: [] },
        undefined,
        keepsFrom === undefined ? undefined : msToNs(keepsFrom),
      );
    } finally {
      this.answering--;
    }
  }

  /** One session, either role: the reconciliation, the pushes beside it, then the wait for what we lack. */
  private async converse(
    role: 'initiator' | 'responder',
    peer: string,
    open: (signal: AbortSignal) => Promise<Stream>,
    dialTransfer: (signal: AbortSignal) => Promise<Stream>,
    scope: Scope,
    window?: { lower: { time: bigint; hash: Uint8Array }; upper: { time: bigint; hash: Uint8Array } },
    floorNs?: bigint,
  ): Promise<SyncResult> {
    const started = performance.now();
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.o.sessionMs ?? 120_000)]);
    const session = new ReconcileSession({ role, scope, window, floorNs, storageFor: (s) => this.index.storage(s), params: this.o.params, limits: this.o.limits });
    const pusher = new Pusher({ dial: () => dialTransfer(signal), index: this.index, signal, maxMessages: this.o.maxPush ?? 100_000 });
    // The initiator expects pushes from the start (nwaku pushes as soon as it finds a difference); a responder once it knows the scope.
    let inbound: Inbound | undefined = window === undefined ? undefined : this.receiver.open(peer, scope, window);
    let frames: Frames | undefined;
    let outcome: SyncOutcome = 'complete';
    let reason: string | undefined;
    try {
      frames = new Frames(await open(signal), { maxFrameBytes: this.o.maxFrameBytes ?? 8 * 1024 * 1024, idleMs: this.o.idleMs ?? 15_000, signal });
      if (role === 'initiator') await frames.write(await session.open());
      while (!session.done) {
        const step = await session.receive(await frames.read());
        if (inbound === undefined && session.scope !== undefined && !session.refused) inbound = this.receiver.open(peer, session.scope, sessionWindow(session));
        if (inbound !== undefined) this.receiver.want(inbound, step.weLack);
        pusher.push(step.theyLack);
        if (step.reply !== null) await frames.write(step.reply);
      }
      await frames.close();
      if (session.refused) outcome = 'refused';
      else if (session.truncated) outcome = 'truncated';
    } catch (err) {
      outcome = err instanceof SyncProtocolError ? 'cut-off' : 'failed';
      reason = err instanceof SyncProtocolError ? err.reason : err instanceof Error ? err.message : String(err);
      frames?.abort(err instanceof Error ? err : new Error(String(err)));
    }
    const unasked = inbound?.endReconciliation() ?? 0;
    for (let i = 0; i < unasked; i++) this.tally.refused('unsolicited');
    const pushFailed = await pusher.finish();
    if (inbound !== undefined && outcome !== 'failed') await inbound.settled(this.o.transferWaitMs ?? 10_000, this.stopping.signal);
    if (inbound !== undefined) this.receiver.close(inbound);
    const result: SyncResult = {
      peer,
      role,
      outcome,
      ...(reason === undefined ? {} : { reason }),
      rounds: session.rounds,
      reconciliationBytes: (frames?.bytesIn ?? 0) + (frames?.bytesOut ?? 0),
      transferBytesSent: pusher.bytes,
      theyLacked: session.theyLackCount,
      pushed: pusher.pushed,
      unsent: pusher.unsent,
      weLacked: session.weLackCount,
      received: inbound?.received ?? 0,
      stored: inbound?.stored ?? 0,
      undelivered: inbound?.outstanding ?? 0,
      refused: inbound?.refused ?? 0,
      ms: Math.round(performance.now() - started),
      ...(pushFailed === undefined ? {} : { pushError: pushFailed }),
    };
    this.tally.session(result);
    this.o.onSession?.(result);
    return result;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }
}

function peerKey(peer: PeerId | Multiaddr): string {
  if ('getPeerId' in peer) {
    const id = peer.getPeerId();
    if (id === null) throw new Error(`${peer.toString()} names no peer (/p2p/…)`);
    return id;
  }
  return peer.toString();
}

/** The responder's window, as the initiator set it. */
function sessionWindow(s: ReconcileSession): { lower: { time: bigint; hash: Uint8Array }; upper: { time: bigint; hash: Uint8Array } } {
  const w = s.currentWindow;
  if (w === undefined) throw new Error('unreachable: a settled session has a window');
  return w;
}
