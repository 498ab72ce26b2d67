/**
 * Filling one window (at most a UTC day of one scope: a community's content
 * topics on its pubsub topic, or a whole pubsub topic) from store peers, hash
 * first, as status-go's backfill does it. A community's window is asked with
 * its content topics as the filter (list-hashes asks ten a query, the store's
 * limit), so only its own messages travel.
 *
 * An answer counts only for what the answering peer attests it held: each
 * peer that speaks the coverage protocol is first asked what it holds of the
 * window (signed). Peers that do not speak it (nwaku, the fleet) are
 * unattested: their answers fill, never verify. Each peer asked lists the
 * window's hashes; the union of the listings, less what the archive holds, is
 * fetched once, by hash, from peers that listed it; every message is checked
 * and stored through the archive writer. A listing counts once everything it
 * named is held here: a peer that lists what it does not deliver, or sends a
 * forgery, counts for nothing, and another peer is asked in its place. A
 * stretch is verified where at least the quorum of attesting peers whose
 * listings count hold it; held but unverified where fewer do, or where only
 * unattested listings cover it; the rest stays a gap. An attesting peer whose
 * listing lacks a message every other attesting peer listed for a moment they
 * all attest loses its standing.
 *
 * Nothing is saved mid-window: messages are stored as they arrive, so a
 * window asked again after a crash lists again (hashes are cheap) and fetches
 * only what is still missing.
 */
import { UnsupportedProtocolError } from '@libp2p/interface';
import type { GapNote } from './completeness.ts';
import { AttestationRefused } from '../coverage/attestation.ts';
import type { HistoryDeps } from './deps.ts';
import { fetchBodies } from './fetch-bodies.ts';
import type { FilledPart } from './history-store.ts';
import { listHashes } from './list-hashes.ts';
import type { ArchiveMessage } from '../message/message.ts';
import { errorMessage } from '../util/errors.ts';
import { toHex } from '../message/hash.ts';
import { coveredByAtLeast, intersect, normalize, subtract, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { msToNs, nsToMs } from '../util/time.ts';
import { MAX_CONTENT_TOPICS as MAX_COVERAGE_TOPICS } from '../coverage/codec.ts';

/** Fetched messages are stored this many at a time. */
const STORE_BATCH = 500;

/** The span of a window listed as one slice. */
const SLICE_MS = 6 * 3_600_000;

/** The scope a window is of: its record's id, its pubsub topic and content topics (empty: the whole topic). */
export interface WorkScope {
  id: number;
  pubsubTopic: string;
  contentTopics: readonly string[];
}

export interface WindowWork {
  scope: WorkScope;
  window: Interval;
  /** Asking again a stretch held unverified: the peers whose answers hold it, and whether they attested. */
  prior: { peers: string[]; attested: boolean } | null;
}

export interface WindowFillOptions {
  fillQuorum: number;
  /** How far the window is widened at both ends when messages are fetched. */
  marginMs: number;
  /** The most pages one peer's listing of the window may take. */
  maxPagesPerWindow: number;
  /** Time slices of the window listed side by side, and body requests in flight at once. */
  parallel?: number;
  signal: AbortSignal;
  /** Messages new to the archive, as they are stored. */
  onStored: (count: number) => void;
}

export interface WindowOutcome {
  result: 'verified' | 'unverified' | 'open';
  /** Why what is left of the window is still missing, if anything is. */
  note: GapNote | null;
  /** The attesting peers whose answers were complete: asking them again soon would tell nothing new. */
  answeredBy: string[];
}

/** A peer's complete listing of the window: what it attests holding (null: unattested) and the hashes. */
interface Listing {
  held: Interval[] | null;
  hashes: Set<string>;
}

export async function fillWindow(d: HistoryDeps, w: WindowWork, o: WindowFillOptions): Promise<WindowOutcome> {
  const { window } = w;
  const { pubsubTopic, contentTopics } = w.scope;
  const { writer, peers, topics } = d;
  /** The scope's own filter: what it asks for and keeps of the answers (the whole topic: what the plan keeps). */
  const inScope = (contentTopic: string): boolean => (contentTopics.length === 0 ? topics.keeps(contentTopic) : contentTopics.includes(contentTopic));
  const quorum = o.fillQuorum;
  const parallel = Math.max(1, o.parallel ?? 4);
  const range = { pubsubTopic, startNs: msToNs(window.start - o.marginMs), endNs: msToNs(window.end + o.marginMs) };
  /** Stretches held by earlier answers, not asked again: peers whose answers hold them, attested or not. */
  const priorAttested = new Set<string>();
  const priorUnattested = new Set<string>();
  /** Listings that count: complete, and all they named held here. */
  const listings = new Map<string, Listing>();
  /** How many hashes each peer listed, for its agreement: also kept for a peer that loses its standing. */
  const listed = new Map<string, number>();
  const errors: string[] = [];
  const notHeld: string[] = [];
  let newMessages = 0;
  let unstorable = false;

  if (w.prior !== null) {
    for (const p of w.prior.peers) {
      if (w.prior.attested) priorAttested.add(p);
      // An unattested answer is asked again of a peer that attests now, and counts no more for one that lost its standing.
      else if (!peers.mayAttest(p) && peers.hasStanding(p)) priorUnattested.add(p);
    }
  }
  const attestedHeld = (): Interval[][] => [
    ...[...priorAttested].map(() => [window]),
    ...[...listings.values()].flatMap((l) => (l.held === null ? [] : [l.held])),
  ];
  /** Unattested listings that hold a stretch: a peer that lost its standing still delivers (every message is checked), but its word holds nothing. */
  const unattestedHolders = (): string[] => [...priorUnattested, ...[...listings].filter(([id, l]) => l.held === null && peers.hasStanding(id)).map(([id]) => id)];
  const unattestedCount = (): number => unattestedHolders().length;
  const verified = (): Interval[] => coveredByAtLeast(attestedHeld(), quorum);
  const done = (): boolean => subtract(window, verified()).length === 0;
  const queue = peers
    .candidates({ pubsubTopic, window })
    .map((p) => p.peerId)
    .filter((id) => !priorAttested.has(id) && !priorUnattested.has(id));

  /** What the peer attests holding of the window: stretches, or null when its answer is unattested; undefined: skip it. */
  const askCoverage = async (peerId: string): Promise<Interval[] | null | undefined> => {
    if (!peers.mayAttest(peerId)) return null;
    try {
      // A question names at most 100 content topics: a larger scope is held where every part of it is.
      let held: Interval[] = [window];
      for (const part of topicChunks(contentTopics, MAX_COVERAGE_TOPICS)) {
        held = intersect(held, await d.attest(peerId, { pubsubTopic, contentTopics: part, range: window }, o.signal));
        if (held.length === 0) break;
      }
      return held;
    } catch (err) {
      if (err instanceof UnsupportedProtocolError) {
        peers.setAttests(peerId, false);
        return null;
      }
      if (err instanceof AttestationRefused) {
        peers.recordRefused(peerId, err.reason);
        errors.push(`${peerId.slice(-8)}: ${err.message}`);
        return null;
      }
      if (!o.signal.aborted) fault(peerId, errorMessage(err));
      return undefined;
    }
  };
  const fault = (peerId: string, error: string): void => {
    peers.recordFailure(peerId, error);
    errors.push(`${peerId.slice(-8)}: ${error}`);
  };

  /** Lists the window at one peer; a complete listing is taken, for now. */
  const list = async (peerId: string): Promise<void> => {
    const held = await askCoverage(peerId);
    if (held === undefined) return;
    // It attests it was not there either: its listing proves nothing, but what it holds anyway (a
    // fill from an unattested peer, what relay brought while it was stopping) is worth keeping.
    if (held !== null && held.length === 0) notHeld.push(peerId);
    // Unattested listings only fill: beyond the quorum of them, another adds little.
    if (held === null && unattestedCount() >= quorum) return;
    const listing = await listHashes((req, signal) => d.query(peerId, req, signal), {
      range,
      contentTopics,
      // A slice per 6 hours, up to `parallel`: a short window is one listing, a day is listed side by side.
      slices: Math.min(parallel, Math.ceil((window.end - window.start) / SLICE_MS)),
      maxPages: o.maxPagesPerWindow,
      signal: o.signal,
    });
    if (listing.complete) {
      peers.recordSuccess(peerId, listing.rttMs);
      listings.set(peerId, { held, hashes: listing.hashes });
      listed.set(peerId, listing.hashes.size);
    } else if (!o.signal.aborted) {
      fault(peerId, listing.error ?? 'incomplete');
    }
  };

  let timesHeld: Map<string, bigint> | undefined;
  /** Fetches what the listings name and the archive lacks; drops the listings that do not hold up. */
  const fetchMissing = async (): Promise<void> => {
    const held = await d.archive.hashesIn(pubsubTopic, range.startNs, range.endNs, contentTopics);
    // What the window holds now, with times: what was held, and what is fetched below.
    timesHeld = held;
    const wanted = new Map<string, string[]>();
    for (const [peerId, l] of listings) {
      for (const h of l.hashes) {
        const listers = wanted.get(h);
        if (listers !== undefined) listers.push(peerId);
        else if (!held.has(h)) wanted.set(h, [peerId]);
      }
    }
    if (wanted.size === 0) return;
    // Stored a thousand at a time: a transaction per request of 100 cost a fill a third of its time.
    let pending: ArchiveMessage[] = [];
    const flush = (): number | null => {
      const batch = pending;
      pending = [];
      const inserted = writer.store(batch);
      if (inserted !== null) {
        newMessages += inserted;
        o.onStored(inserted);
      }
      return inserted;
    };
    const got = await fetchBodies({
      range,
      rules: d.rules,
      wanted,
      query: (peerId) => (req, signal) => d.query(peerId, req, signal),
      store: (messages) => {
        for (const m of messages) {
          if (!inScope(m.contentTopic)) continue;
          pending.push(m);
          held.set(toHex(m.hash), m.timestamp);
        }
        return pending.length >= STORE_BATCH ? flush() : 0;
      },
      parallel,
      signal: o.signal,
    });
    if (!got.unstorable && pending.length > 0 && flush() === null) got.unstorable = true;
    for (const [peerId, t] of got.tally) peers.recordMessages(peerId, t.delivered, t.rejected);
    if (got.unstorable) {
      unstorable = true;
      return;
    }
    if (o.signal.aborted) return;
    for (const [peerId, l] of listings) {
      const fetchFault = got.faults.get(peerId);
      const undelivered = [...l.hashes].filter((h) => got.missing.has(h)).length;
      if (got.forgers.has(peerId)) {
        listings.delete(peerId);
        listed.delete(peerId);
        fault(peerId, fetchFault ?? 'sent forgeries');
        // Nothing an honest store does: what it attests counts for nothing for a while.
        peers.loseStanding(peerId, fetchFault ?? 'sent forgeries');
      } else if (undelivered > 0) {
        listings.delete(peerId);
        listed.delete(peerId);
        fault(peerId, `listed ${undelivered} message${undelivered === 1 ? '' : 's'} that no peer delivered`);
      } else if (fetchFault !== undefined) {
        // Others delivered what it could not: its listing still holds.
        peers.recordFailure(peerId, fetchFault);
      }
    }
  };

  // Up to the quorum of peers at a time list the window, until the quorum holds all of it or
  // nobody is left; then what they named is fetched. Peers whose listings did not hold up are
  // replaced by the next ones in the queue.
  for (let round = 0; !o.signal.aborted && !unstorable; round++) {
    const workers = Array.from({ length: Math.max(1, quorum) }, async () => {
      while (!done() && !o.signal.aborted) {
        const next = queue.shift();
        if (next === undefined) return;
        await list(next);
      }
    });
    await Promise.all(workers);
    const counted = listings.size;
    await fetchMissing();
    const attesting = [...listings.values()].filter((l) => l.held !== null).length;
    // The held and fetched hashes' times, kept from fetchMissing rather than scanning the window again.
    const timeOf = attesting >= 2 ? (timesHeld ?? (await d.archive.hashesIn(pubsubTopic, range.startNs, range.endNs, contentTopics))) : new Map<string, bigint>();
    for (const [peerId, short] of shortPeers(listings, timeOf)) {
      peers.loseStanding(peerId, `lacked ${short} message${short === 1 ? '' : 's'} of ${new Date(window.start).toISOString().slice(0, 10)} that every other attesting peer listed`);
      listings.delete(peerId);
    }
    if (listings.size === counted || queue.length === 0 || done()) break;
  }
  if (o.signal.aborted) return { result: 'open', note: null, answeredBy: [] };
  if (unstorable) {
    // Nothing a peer did: the window stays open and is asked again once the archive takes writes.
    return { result: 'open', note: { reason: 'archive-error', detail: writer.error }, answeredBy: [] };
  }

  // Agreement: the share of everything now held for the window that each peer listed (an empty window says nothing about a peer).
  const union = contentTopics.length === 0 ? d.archive.countInRange(pubsubTopic, range.startNs, range.endNs) : (await d.archive.hashesIn(pubsubTopic, range.startNs, range.endNs, contentTopics)).size;
  if (union > 0) for (const [peerId, n] of listed) peers.recordAgreement(peerId, Math.min(1, n / union));

  const attested = new Map<string, Interval[]>([
    ...[...priorAttested].map((p): [string, Interval[]] => [p, [window]]),
    ...[...listings].flatMap(([p, l]): [string, Interval[]][] => (l.held === null ? [] : [[p, l.held]])),
  ]);
  const unattested = new Set(unattestedHolders());
  const parts = accountParts(window, attested, unattested, quorum);
  const held = normalize(parts);
  const missing = subtract(window, held);
  // Attesting peers that answered, and held none or only part of what is missing: they were not there either.
  const notHolding = [...new Set([...notHeld, ...[...attested].filter(([, h]) => intersect(h, missing).length === 0).map(([id]) => id)])];
  const answeredNotHolding = notHolding.length;
  const note: GapNote | null =
    missing.length === 0
      ? null
      : errors.length > 0
        ? { reason: 'peer-failed', detail: errors.join('; ') }
        : answeredNotHolding > 0
          ? { reason: 'not-held', detail: `${answeredNotHolding} peer${answeredNotHolding === 1 ? '' : 's'} asked attest${answeredNotHolding === 1 ? 's' : ''} not holding it` }
          : { reason: 'no-peer', detail: null };
  if (parts.length > 0) d.history.completeWindow(w.scope.id, window, parts, newMessages);
  const result = totalLength(verified()) >= window.end - window.start && missing.length === 0 ? 'verified' : parts.length > 0 ? 'unverified' : 'open';
  return { result, note, answeredBy: [...attested.keys()] };
}

/** Content topics in groups of at most `max`, as one question takes them; the whole topic is one empty group. */
function topicChunks(contentTopics: readonly string[], max: number): string[][] {
  if (contentTopics.length === 0) return [[]];
  const out: string[][] = [];
  for (let i = 0; i < contentTopics.length; i += max) out.push(contentTopics.slice(i, i + max));
  return out;
}

/** How the window is held now, part by part: verified, attested below the quorum, unattested. */
function accountParts(window: Interval, attested: Map<string, Interval[]>, unattested: Set<string>, quorum: number): FilledPart[] {
  const verified = intersect(coveredByAtLeast([...attested.values()], quorum), [window]);
  const someAttested = intersect(normalize([...attested.values()].flat()), [window]).flatMap((i) => subtract(i, verified));
  const unattestedHeld = unattested.size > 0 ? subtract(window, [...verified, ...someAttested]) : [];
  const holders = (i: Interval): string[] =>
    [...attested].filter(([, held]) => intersect(held, [i]).length > 0).map(([id]) => id).sort();
  return [
    ...verified.map((i) => ({ ...i, verified: true, attested: true, peers: holders(i) })),
    ...someAttested.map((i) => ({ ...i, verified: false, attested: true, peers: holders(i) })),
    ...unattestedHeld.map((i) => ({ ...i, verified: false, attested: false, peers: [...unattested].sort() })),
  ].sort((a, b) => a.start - b.start);
}

/**
 * The attesting peers that lacked messages: a peer is short a message when it
 * attested holding its moment, did not list it, and every other attesting
 * peer whose listing counts and who held that moment listed it.
 */
function shortPeers(listings: Map<string, Listing>, timeOf: ReadonlyMap<string, bigint>): Map<string, number> {
  const short = new Map<string, number>();
  const attesting = [...listings].filter((e): e is [string, Listing & { held: Interval[] }] => e[1].held !== null);
  if (attesting.length < 2) return short;
  const holds = (held: Interval[], ms: number): boolean => held.some((i) => ms >= i.start && ms < i.end);
  const seen = new Set<string>();
  for (const [, l] of attesting) {
    for (const hash of l.hashes) {
      if (seen.has(hash)) continue;
      seen.add(hash);
      const at = timeOf.get(hash);
      if (at === undefined) continue;
      const ms = nsToMs(at);
      const covering = attesting.filter(([, other]) => holds(other.held, ms));
      const lacking = covering.filter(([, other]) => !other.hashes.has(hash));
      if (lacking.length === 1 && covering.length >= 2) {
        const id = (lacking[0] as [string, Listing])[0];
        short.set(id, (short.get(id) ?? 0) + 1);
      }
    }
  }
  return short;
}
