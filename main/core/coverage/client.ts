/**
 * Asks a peer what it holds of a time range, over the coverage protocol, and
 * believes the answer only once it is checked (attestation.ts). A peer that
 * does not speak the protocol, or fails to answer, throws a plain error; one
 * whose answer is refused throws AttestationRefused.
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { randomUUID } from 'node:crypto';
import type { Interval } from '../util/intervals.ts';
import { AttestationRefused, verifyAttestation } from './attestation.ts';
import { COVERAGE_CODEC, CoverageStatus, decodeCoverageResponse, encodeCoverageRequest, MAX_RESPONSE_BYTES } from './codec.ts';
import type { CoverageRequest } from './codec.ts';

export interface CoverageQuestion {
  pubsubTopic: string;
  /** Empty: the whole pubsub topic. */
  contentTopics: readonly string[];
  range: Interval;
}

export interface AskOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  now?: () => number;
}

export async function askCoverage(
  node: Pick<Libp2p, 'dialProtocol'>,
  peerId: PeerId,
  target: PeerId | Multiaddr,
  q: CoverageQuestion,
  opts: AskOptions = {},
): Promise<Interval[]> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const request: CoverageRequest = {
    requestId: randomUUID(),
    pubsubTopic: q.pubsubTopic,
    contentTopics: [...q.contentTopics],
    startMs: BigInt(Math.floor(q.range.start)),
    endMs: BigInt(Math.ceil(q.range.end)),
  };
  const stream = await node.dialProtocol(target, COVERAGE_CODEC, { signal });
  let bytes;
  try {
    const io = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES });
    await io.write(encodeCoverageRequest(request), { signal });
    await stream.closeWrite({ signal });
    bytes = await io.read({ signal });
    await stream.close({ signal });
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    if (err instanceof Error && (err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError')) throw new AttestationRefused('oversized');
    throw err;
  }
  let res;
  try {
    res = decodeCoverageResponse(bytes);
  } catch (err) {
    throw new AttestationRefused(`undecodable answer (${(err as Error).message})`);
  }
  if (res.statusCode !== CoverageStatus.OK) throw new Error(`coverage status ${res.statusCode}: ${res.statusDesc}`);
  return verifyAttestation(res, peerId, request, (opts.now ?? Date.now)());
}
