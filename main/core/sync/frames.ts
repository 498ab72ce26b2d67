/**
 * Length-prefixed frames over one libp2p stream for the multi-round
 * reconciliation exchange (one-request-stream.ts serves one request a stream;
 * this holds a conversation). Every read has a deadline, every frame a size
 * cap, and failures come out as SyncProtocolError with the reason a peer is
 * counted under: a frame over the cap, a peer that stalls.
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from 'it-length-prefixed-stream';
import type { LengthPrefixedStream } from 'it-length-prefixed-stream';
import { SyncProtocolError } from './reconcile.ts';

export interface FrameOptions {
  maxFrameBytes: number;
  /** The most one read may wait. */
  idleMs: number;
  /** The session's end: stop, or its time budget. */
  signal: AbortSignal;
}

export class Frames {
  private readonly stream: Stream;
  private readonly io: LengthPrefixedStream<Stream>;
  private readonly o: FrameOptions;
  bytesIn = 0;
  bytesOut = 0;

  constructor(stream: Stream, o: FrameOptions) {
    this.stream = stream;
    this.o = o;
    this.io = lpStream(stream, { maxDataLength: o.maxFrameBytes });
  }

  async read(): Promise<Uint8Array> {
    const idle = AbortSignal.timeout(this.o.idleMs);
    try {
      const frame = (await this.io.read({ signal: AbortSignal.any([this.o.signal, idle]) })).subarray();
      this.bytesIn += frame.length + prefixLength(frame.length);
      return frame;
    } catch (err) {
      throw classify(err, idle, this.o.signal);
    }
  }

  async write(frame: Uint8Array): Promise<void> {
    const idle = AbortSignal.timeout(this.o.idleMs);
    try {
      await this.io.write(frame, { signal: AbortSignal.any([this.o.signal, idle]) });
      this.bytesOut += frame.length + prefixLength(frame.length);
    } catch (err) {
      throw classify(err, idle, this.o.signal);
    }
  }

  /**
   * Ends the conversation: our side closes, then the peer's end is awaited
   * briefly — mplex aborts a whole connection when one side ends a stream the
   * other still writes to (DESIGN, js-waku and mplex).
   */
  async close(): Promise<void> {
    const signal = AbortSignal.timeout(Math.min(this.o.idleMs, 2000));
    try {
      await this.stream.closeWrite({ signal });
      await this.io.read({ signal }).catch(() => undefined);
      await this.stream.close({ signal });
    } catch {
      this.stream.abort(new Error('sync stream did not close'));
    }
  }

  abort(err: Error): void {
    this.stream.abort(err);
  }
}

function classify(err: unknown, idle: AbortSignal, session: AbortSignal): unknown {
  const name = err instanceof Error ? err.name : '';
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError') {
    return new SyncProtocolError('frame-too-large', err instanceof Error ? err.message : String(err));
  }
  if (session.aborted) return new SyncProtocolError('timeout', 'the session ran out of time or was stopped');
  if (idle.aborted) return new SyncProtocolError('stalled', 'the peer sent nothing in time');
  return err;
}

function prefixLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return len;
}
