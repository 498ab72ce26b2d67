/**
 * Serves one request per libp2p stream, as Waku's request/response protocols
 * do: the first length-prefixed frame is answered at once, later frames are
 * read and dropped, and the write side closes only after the client has closed
 * its own (js-waku multiplexes with mplex, which aborts the whole connection
 * when a server ends streams early while a client pages fast). A stream that
 * makes no progress for `idleTimeoutMs` is aborted.
 */
import type { IncomingStreamData, StreamHandler } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';
import { pipe } from 'it-pipe';
import type { Uint8ArrayList } from 'uint8arraylist';

export interface OneRequestOptions {
  maxRequestBytes: number;
  idleTimeoutMs: number;
  /** The answer to the first frame from `peer`. */
  respond: (peer: string, frame: Uint8ArrayList) => Uint8Array | Promise<Uint8Array>;
  /** The answer when the first frame cannot even be read (too long, truncated framing). */
  malformed: (peer: string, err: unknown) => Uint8Array;
}

/** A libp2p stream handler that answers one request per stream. */
export function oneRequestHandler(o: OneRequestOptions): StreamHandler {
  return (data) => serveOneRequest(data, o);
}

function serveOneRequest({ stream, connection }: IncomingStreamData, o: OneRequestOptions): void {
  const peer = connection.remotePeer.toString();
  let timer: NodeJS.Timeout | undefined;
  const armTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.abort(new Error('stream idle')), o.idleTimeoutMs);
  };
  armTimer();
  async function* answerFirst(frames: AsyncIterable<Uint8ArrayList>): AsyncGenerator<Uint8Array> {
    let answered = false;
    try {
      for await (const frame of frames) {
        if (answered) continue;
        answered = true;
        yield await o.respond(peer, frame);
        armTimer();
      }
    } catch (err) {
      if (!answered) yield o.malformed(peer, err);
    }
  }
  pipe(stream.source, (source) => lp.decode(source, { maxDataLength: o.maxRequestBytes }), answerFirst, (source) => lp.encode(source), stream.sink)
    .catch((err: unknown) => stream.abort(err instanceof Error ? err : new Error(String(err))))
    .finally(() => clearTimeout(timer));
}
