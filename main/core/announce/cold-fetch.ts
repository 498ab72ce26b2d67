/**
 * A Keeper that starts cold asks a store peer for the last hour of a
 * community's announcements: an ordinary Store v3 content-topic query, a few
 * pages at most, newest first: what counts is each Keeper's latest, and in a
 * large community an hour holds more announcements than the pages take.
 * Announcements are stored like any message, so any store node that keeps the
 * community (another Keeper, or nwaku keeping everything) has them.
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { decodeWakuMessage } from '../message/wire.ts';
import { storeQueryRaw } from '../store/client.ts';
import { msToNs } from '../util/time.ts';

export const COLD_FETCH_SPAN_MS = 60 * 60_000;
const MAX_PAGES = 5;

/** The payloads of the announcements a peer holds on `contentTopic` from the last hour, newest first. */
export async function fetchAnnouncements(
  dialer: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId | Multiaddr,
  pubsubTopic: string,
  contentTopic: string,
  nowMs: number,
  timeoutMs: number,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let cursor: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await storeQueryRaw(
      dialer,
      peer,
      {
        pubsubTopic,
        contentTopics: [contentTopic],
        timeStart: msToNs(nowMs - COLD_FETCH_SPAN_MS),
        timeEnd: msToNs(nowMs + 60_000),
        paginationForward: false,
        paginationLimit: 100n,
        ...(cursor === undefined ? {} : { paginationCursor: cursor }),
      },
      { timeoutMs },
    );
    if (res.statusCode !== 200) throw new Error(`store answered ${res.statusCode ?? 'no status'}: ${res.statusDesc ?? ''}`);
    for (const e of res.messages) {
      if (e.message === undefined) continue;
      try {
        const m = decodeWakuMessage(e.message);
        if (m.contentTopic === contentTopic) out.push(m.payload);
      } catch {
        // An undecodable entry is the tracker's to ignore: there is nothing to check.
      }
    }
    cursor = res.paginationCursor;
    if (cursor === undefined || res.messages.length === 0) break;
  }
  return out;
}
