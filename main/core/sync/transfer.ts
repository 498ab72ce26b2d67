/**
 * The receiving half of `/vac/waku/transfer/1.0.0`: messages a peer pushes
 * while (and shortly after) it reconciles with us. Only a peer with a session
 * open may push; every message is decoded, checked by the archive's rules
 * (decode.ts, the network's MessageRules), kept to the session's topics and
 * window, and taken only if reconciliation found we lack it: the hash and
 * time a peer listed in an item set. nwaku pushes as soon as it finds a
 * difference, possibly before we have read the item set that tells us of it,
 * so a message not (yet) wanted waits — bounded — until the reconciliation
 * ends. What passes goes into the archive through the writer, in batches.
 */
import type { IncomingStreamData } from '@libp2p/interface';
import type { ArchiveWriter } from '../archive/writer.ts';
import { decodeForArchive } from '../message/decode.ts';
import type { ArchiveMessage } from '../message/message.ts';
import type { MessageRules } from '../message/validate.ts';
import { Frames } from './frames.ts';
import { hashKey } from './ids.ts';
import type { SyncId } from './ids.ts';
import { SyncProtocolError } from './reconcile.ts';
import { inWindow } from './session.ts';
import type { Scope } from './session.ts';
import { decodeMessageAndTopic } from './transfer-codec.ts';

/** Messages written to the archive in one transaction, at most. */
const BATCH = 256;

/** Why a pushed message was not taken. */
export type RefusedReason = 'undecodable' | 'invalid' | 'off-scope' | 'unsolicited' | 'time-mismatch' | 'unwritable';

export interface TransferOptions {
  writer: ArchiveWriter;
  rules: MessageRules;
  /** Pushed messages held while not yet known to be wanted, per session. */
  maxPendingBytes?: number;
  /** Refused messages one transfer stream may send before it is cut off. */
  maxRefusedPerStream?: number;
  idleMs?: number;
  onRefused?: (peer: string, reason: RefusedReason) => void;
  onStreamCutOff?: (peer: string, reason: string) => void;
}

/** What one session expects from its peer over transfer, and what came. */
export class Inbound {
  readonly peer: string;
  readonly scope: Scope;
  readonly window: { lower: SyncId; upper: SyncId };
  reconciling = true;
  /** Valid messages taken (new or not). */
  received = 0;
  /** New to the archive. */
  stored = 0;
  refused = 0;
  private readonly wants = new Map<string, bigint>();
  private readonly pending = new Map<string, ArchiveMessage>();
  private pendingBytes = 0;
  private readonly maxPendingBytes: number;
  private settle: (() => void) | undefined;

  constructor(peer: string, scope: Scope, window: { lower: SyncId; upper: SyncId }, maxPendingBytes: number) {
    this.peer = peer;
    this.scope = scope;
    this.window = window;
    this.maxPendingBytes = maxPendingBytes;
  }

  /** Messages still expected. */
  get outstanding(): number {
    return this.wants.size;
  }

  /** Learned from reconciliation: these are the peer's and missing here. Returns what was already waiting. */
  want(ids: readonly SyncId[]): ArchiveMessage[] {
    const ready: ArchiveMessage[] = [];
    for (const id of ids) {
      const key = hashKey(id.hash);
      const held = this.pending.get(key);
      if (held !== undefined && held.timestamp === id.time) {
        this.pending.delete(key);
        this.pendingBytes -= held.message.length;
        ready.push(held);
      } else this.wants.set(key, id.time);
    }
    return ready;
  }

  /** A checked message from the peer: taken, held until wanted, or refused with the reason. */
  offer(m: ArchiveMessage): 'take' | 'hold' | RefusedReason {
    return this.claim(m) ?? this.hold(m);
  }

  /** Takes the message if this session wants it; undefined when in scope and not wanted. */
  claim(m: ArchiveMessage): 'take' | 'off-scope' | 'time-mismatch' | undefined {
    if (!this.scope.pubsubTopics.includes(m.pubsubTopic) && this.scope.pubsubTopics.length > 0) return 'off-scope';
    if (this.scope.contentTopics.length > 0 && !this.scope.contentTopics.includes(m.contentTopic)) return 'off-scope';
    const key = hashKey(m.hash);
    const time = this.wants.get(key);
    if (time === undefined) return undefined;
    if (time !== m.timestamp) return 'time-mismatch';
    this.wants.delete(key);
    if (this.wants.size === 0 && !this.reconciling) this.settle?.();
    return 'take';
  }

  /** A wanted message that came in a sibling session with the same peer: wanted no more. */
  forget(id: SyncId): void {
    if (!this.wanted(id)) return;
    this.wants.delete(hashKey(id.hash));
    if (this.wants.size === 0 && !this.reconciling) this.settle?.();
  }

  /** Whether reconciliation found this message missing and it has not come yet. */
  wanted(id: SyncId): boolean {
    return this.wants.get(hashKey(id.hash)) === id.time;
  }

  /** A message held here, not wanted by this session: handed over (to a sibling session that wants it). */
  release(id: SyncId): ArchiveMessage | undefined {
    const key = hashKey(id.hash);
    const held = this.pending.get(key);
    if (held === undefined || held.timestamp !== id.time) return undefined;
    this.pending.delete(key);
    this.pendingBytes -= held.message.length;
    return held;
  }

  /** A message in scope that no session wants (yet): held while reconciling, bounded, else refused. */
  hold(m: ArchiveMessage): 'hold' | RefusedReason {
    if (!this.scope.pubsubTopics.includes(m.pubsubTopic) && this.scope.pubsubTopics.length > 0) return 'off-scope';
    if (this.scope.contentTopics.length > 0 && !this.scope.contentTopics.includes(m.contentTopic)) return 'off-scope';
    const key = hashKey(m.hash);
    if (!this.reconciling || !inWindow({ time: m.timestamp, hash: m.hash }, this.window)) return 'unsolicited';
    // A second copy of one held (the peer's sessions with us each push it): still one held.
    if (this.pending.get(key)?.timestamp === m.timestamp) return 'hold';
    if (this.pendingBytes + m.message.length > this.maxPendingBytes || this.pending.has(key)) return 'unsolicited';
    this.pending.set(key, m);
    this.pendingBytes += m.message.length;
    return 'hold';
  }

  /** Reconciliation is over: what waits unwanted was never asked for. Returns how many were dropped. */
  endReconciliation(): number {
    this.reconciling = false;
    const dropped = this.pending.size;
    this.pending.clear();
    this.pendingBytes = 0;
    this.refused += dropped;
    return dropped;
  }

  /** Resolves once every wanted message came, or after `ms`. */
  async settled(ms: number, signal: AbortSignal): Promise<void> {
    if (this.wants.size === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.settle = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.settle = done;
    });
  }
}

export class TransferReceiver {
  private readonly o: Required<Omit<TransferOptions, 'onRefused' | 'onStreamCutOff'>> & Pick<TransferOptions, 'onRefused' | 'onStreamCutOff'>;
  private readonly byPeer = new Map<string, Set<Inbound>>();
  private readonly batches = new Map<Inbound, ArchiveMessage[]>();
  private readonly takenFrom = new Map<string, Map<string, number>>();

  constructor(o: TransferOptions) {
    this.o = { maxPendingBytes: 16 * 1024 * 1024, maxRefusedPerStream: 64, idleMs: 15_000, ...o };
  }

  open(peer: string, scope: Scope, window: { lower: SyncId; upper: SyncId }): Inbound {
    const inbound = new Inbound(peer, scope, window, this.o.maxPendingBytes);
    let set = this.byPeer.get(peer);
    if (set === undefined) this.byPeer.set(peer, (set = new Set()));
    set.add(inbound);
    return inbound;
  }

  close(inbound: Inbound): void {
    this.flush(inbound);
    this.batches.delete(inbound);
    const set = this.byPeer.get(inbound.peer);
    set?.delete(inbound);
    if (set?.size === 0) {
      this.byPeer.delete(inbound.peer);
      // The peer's other session may still be pushing its copies of what this one took: they stay excused a while.
      const peer = inbound.peer;
      setTimeout(() => {
        if (!this.byPeer.has(peer)) this.takenFrom.delete(peer);
      }, this.o.idleMs).unref();
    }
  }

  /**
   * Stores what reconciliation now wants and was already waiting, here or in
   * another session with the same peer (two Keepers may each begin one with
   * the other at the same time, and each pushes over its own).
   */
  want(inbound: Inbound, ids: readonly SyncId[]): void {
    const ready = inbound.want(ids);
    const inbounds = [...(this.byPeer.get(inbound.peer) ?? [])];
    const taken = this.taken(inbound.peer);
    for (const id of ids) {
      if (!inbound.wanted(id)) continue;
      // Taken from this peer in another session, maybe not yet written when this one read the archive.
      if (taken.has(hashKey(id.hash))) {
        inbound.forget(id);
        continue;
      }
      for (const sibling of inbounds) {
        const held = sibling === inbound ? undefined : sibling.release(id);
        if (held !== undefined && inbound.claim(held) === 'take') {
          ready.push(held);
          break;
        }
      }
    }
    // Each other session with the peer (open or about to be) may push its own copy.
    for (const m of ready) taken.set(hashKey(m.hash), Math.max(1, inbounds.length - 1));
    if (ready.length > 0) this.store(inbound, ready);
  }

  /** The libp2p handler: a peer without a session is cut off at once. */
  async handle({ stream, connection }: IncomingStreamData, signal: AbortSignal): Promise<void> {
    const peer = connection.remotePeer.toString();
    if (!this.byPeer.has(peer)) {
      this.o.onStreamCutOff?.(peer, 'no-session');
      stream.abort(new Error('no sync session with this peer'));
      return;
    }
    // The largest message the network allows, its pubsub topic and framing.
    const frames = new Frames(stream, { maxFrameBytes: this.o.rules.maxMessageBytes + 16 * 1024, idleMs: this.o.idleMs, signal });
    let refused = 0;
    try {
      for (;;) {
        let frame: Uint8Array;
        try {
          frame = await frames.read();
        } catch (err) {
          if (err instanceof SyncProtocolError && err.reason !== 'stalled') throw err;
          break; // The peer is done (end of stream) or went quiet: either way this stream is over.
        }
        const reason = this.accept(peer, frame);
        if (reason === undefined) continue;
        this.o.onRefused?.(peer, reason);
        if (++refused > this.o.maxRefusedPerStream) throw new SyncProtocolError('transfer-abuse', `${refused} refused messages`);
      }
      await stream.close().catch(() => undefined);
    } catch (err) {
      this.o.onStreamCutOff?.(peer, err instanceof SyncProtocolError ? err.reason : 'transport');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** One pushed frame: undefined when taken or held, else why not. */
  private accept(peer: string, frame: Uint8Array): RefusedReason | undefined {
    let pushed;
    try {
      pushed = decodeMessageAndTopic(frame);
    } catch {
      return 'undecodable';
    }
    // Copy: the frame's buffer is the stream's, and a held message outlives it.
    const checked = decodeForArchive(pushed.pubsubTopic, pushed.message.slice(), this.o.rules);
    if (!checked.ok) return 'invalid';
    const m = checked.message;
    const inbounds = [...(this.byPeer.get(peer) ?? [])];
    let why: RefusedReason = 'off-scope';
    // Every session with the peer that wants it is answered by this one copy; the first stores it.
    let taker: Inbound | undefined;
    for (const inbound of inbounds) {
      const verdict = inbound.claim(m);
      if (verdict === 'take') taker ??= inbound;
      else if (verdict === 'time-mismatch') why = verdict;
    }
    const key = hashKey(m.hash);
    const taken = this.taken(peer);
    if (taker !== undefined) {
      this.store(taker, [m]);
      // Each other session with the peer (open or about to be: two Keepers may each begin one) may push its own copy.
      taken.set(key, Math.max(1, inbounds.length - 1));
      return undefined;
    }
    // A copy of one already taken, pushed by the peer's other session: a duplicate of what was asked, not unasked.
    const left = taken.get(key);
    if (left !== undefined && left > 0) {
      taken.set(key, left - 1);
      return undefined;
    }
    if (why === 'off-scope') {
      for (const inbound of inbounds) {
        const verdict = inbound.hold(m);
        if (verdict === 'hold') return undefined;
        if (verdict !== 'off-scope') why = verdict;
      }
    }
    for (const inbound of inbounds) inbound.refused++;
    return why;
  }

  /**
   * Hashes taken from a peer while several sessions with it are open, with the
   * copies still excused: a session that learns late that it wants one of them
   * wants it no more, and its copy is no fault of the peer.
   */
  private taken(peer: string): Map<string, number> {
    let map = this.takenFrom.get(peer);
    if (map === undefined) this.takenFrom.set(peer, (map = new Map()));
    return map;
  }

  /** Queues messages for the archive: written together once the event loop turns, or at a batch's worth. */
  private store(inbound: Inbound, messages: ArchiveMessage[]): void {
    let batch = this.batches.get(inbound);
    if (batch === undefined) {
      this.batches.set(inbound, (batch = []));
      setImmediate(() => this.flush(inbound));
    }
    batch.push(...messages);
    if (batch.length >= BATCH) this.flush(inbound);
  }

  /** Writes what waits for the archive from this session. */
  flush(inbound: Inbound): void {
    const messages = this.batches.get(inbound);
    this.batches.delete(inbound);
    if (messages === undefined || messages.length === 0) return;
    const stored = this.o.writer.store(messages, 'a later sync will find them missing again');
    if (stored === null) {
      inbound.refused += messages.length;
      for (let i = 0; i < messages.length; i++) this.o.onRefused?.(inbound.peer, 'unwritable');
      return;
    }
    inbound.received += messages.length;
    inbound.stored += stored;
  }
}
