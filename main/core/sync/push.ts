/**
 * The sending half of `/vac/waku/transfer/1.0.0`: what reconciliation found
 * the peer lacks, read from the archive by hash and written, one
 * WakuMessageAndTopic frame each, on one stream opened when there is
 * something to send — while the reconciliation goes on, as nwaku pushes.
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from 'it-length-prefixed-stream';
import type { LengthPrefixedStream } from 'it-length-prefixed-stream';
import type { ArchiveSyncIndex } from './archive-storage.ts';
import type { SyncId } from './ids.ts';
import { encodeMessageAndTopic } from './transfer-codec.ts';

export interface PushOptions {
  /** Opens the transfer stream to the peer. */
  dial: () => Promise<Stream>;
  index: ArchiveSyncIndex;
  /** The session's end. */
  signal: AbortSignal;
  /** The most one session pushes. */
  maxMessages: number;
}

export class Pusher {
  private readonly o: PushOptions;
  private readonly queue: SyncId[] = [];
  private running: Promise<void> | undefined;
  private stream: Stream | undefined;
  private io: LengthPrefixedStream<Stream> | undefined;
  private failed: string | undefined;
  pushed = 0;
  bytes = 0;
  /** Found missing at the peer but not sent: gone from the archive meanwhile, over the cap, or the stream failed. */
  unsent = 0;

  constructor(o: PushOptions) {
    this.o = o;
  }

  push(ids: readonly SyncId[]): void {
    for (const id of ids) {
      if (this.pushed + this.queue.length >= this.o.maxMessages || this.failed !== undefined) this.unsent++;
      else this.queue.push(id);
    }
    if (this.queue.length > 0) this.running ??= this.pump().finally(() => (this.running = undefined));
  }

  /** Sends what is queued, then closes the stream. Returns why sending stopped early, if it did. */
  async finish(): Promise<string | undefined> {
    while (this.running !== undefined) await this.running;
    if (this.stream !== undefined) {
      try {
        await this.stream.close({ signal: AbortSignal.any([this.o.signal, AbortSignal.timeout(5000)]) });
      } catch {
        this.stream.abort(new Error('transfer stream did not close'));
      }
    }
    return this.failed;
  }

  /** Writes what is queued, a batch of frames a write: one write per message was most of a large push's time. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      if (this.failed !== undefined) {
        this.unsent += batch.length;
        continue;
      }
      const frames: Uint8Array[] = [];
      for (const id of batch) {
        const stored = this.o.index.message(id.hash);
        if (stored === undefined) this.unsent++;
        else frames.push(encodeMessageAndTopic(stored.pubsubTopic, stored.message));
      }
      if (frames.length === 0) continue;
      try {
        if (this.io === undefined) {
          this.stream = await this.o.dial();
          this.io = lpStream(this.stream);
        }
        await this.io.writeV(frames, { signal: this.o.signal });
        this.pushed += frames.length;
        for (const f of frames) this.bytes += f.length;
      } catch (err) {
        this.failed = err instanceof Error ? err.message : String(err);
        this.unsent += frames.length;
        this.stream?.abort(new Error('transfer failed'));
      }
    }
  }
}

/** Frames written at once. */
const BATCH = 64;
