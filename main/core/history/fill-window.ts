/**
 * Filling one window (at most a UTC day of one pubsub topic) from store peers.
 *
 * An answer counts only for what the answering peer attests it held: each
 * peer that speaks the coverage protocol is first asked what it holds of the
 * window (signed). Its messages are all kept, but its "complete" counts only
 * inside what it attests: outside, it proves nothing and fills nothing.
 * Peers that do not speak it (nwaku, the fleet) are unattested: their answers
 * fill, never verify. A
 * stretch is verified where at least the quorum of attesting peers that
 * answered completely hold it; held but unverified where fewer do, or where
 * only unattested answers cover it; the rest stays a gap. Every message is
 * checked and stored through the archive writer with the page's progress, so
 * a crash resumes mid-window. An attesting peer that lacks a message every
 * other attesting peer that held that moment gave loses its standing.
 */
import { UnsupportedProtocolError } from '@libp2p/interface';
import type { GapNote } from './completeness.ts';
import { AttestationRefused } from '../coverage/attestation.ts';
import type { HistoryDeps } from './deps.ts';
import { fetchRange } from './fetch.ts';
import type { FilledPart } from './history-store.ts';
import type { ArchiveMessage } from '../message/message.ts';
import { toHex } from '../message/hash.ts';
import { errorMessage } from '../util/errors.ts';
import { coveredByAtLeast, intersect, normalize, subtract, totalLength } from '../util/intervals.ts';
import type { Interval } from '../util/intervals.ts';
import { msToNs, nsToMs } from '../util/time.ts';

export interface WindowWork {
  pubsubTopic: string;
  window: Interval;
  /** Asking again a stretch held unverified: the peers whose answers hold it, and whether they attested. */
  prior: { peers: string[]; attested: boolean } | null;
}

export interface WindowFillOptions {
  fillQuorum: number;
  /** How far the window is widened at both ends when messages are fetched. */
  marginMs: number;
  maxPagesPerWindow: number;
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

/** A message an attesting peer gave, for the standing check: its hash and time. */
type Given = Map<string, bigint>;

export async function fillWindow(d: HistoryDeps, w: WindowWork, o: WindowFillOptions): Promise<WindowOutcome> {
  const { pubsubTopic, window } = w;
  const { writer, history, peers, topics } = d;
  const quorum = o.fillQuorum;
  const range = { pubsubTopic, startNs: msToNs(window.start - o.marginMs), endNs: msToNs(window.end + o.marginMs) };
  const saved = new Map(history.progress(pubsubTopic, window.start).map((p) => [p.peerId, p]));
  /** Complete answers from peers that attested, with what of the window each holds. */
  const attested = new Map<string, Interval[]>();
  /** Complete answers without an attestation. */
  const unattested = new Set<string>();
  /** Attesting peers whose whole answer this run saw, and what they gave: the standing check compares them. */
  const given = new Map<string, Given>();
  /** What each peer that answered completely gave, for its agreement with the union. */
  const provided = new Map<string, number>();
  const errors: string[] = [];
  const notHeld: string[] = [];
  let newMessages = 0;
  let unstorable = false;

  if (w.prior !== null) {
    for (const p of w.prior.peers) {
      if (w.prior.attested) attested.set(p, [window]);
      // An unattested answer is asked again of a peer that attests now.
      else if (!peers.mayAttest(p)) unattested.add(p);
    }
  }
  for (const p of saved.values()) {
    if (!p.complete) continue;
    if (p.held !== null) attested.set(p.peerId, p.held);
    else unattested.add(p.peerId);
  }
  const verified = (): Interval[] => coveredByAtLeast([...attested.values()], quorum);
  const done = (): boolean => subtract(window, verified()).length === 0;
  const queue = peers
    .candidates()
    .map((p) => p.peerId)
    .filter((id) => !attested.has(id) && !unattested.has(id));

  /** What the peer attests holding of the window: stretches, or null when its answer is unattested; undefined: skip it. */
  const askCoverage = async (peerId: string): Promise<Interval[] | null | undefined> => {
    const resumed = saved.get(peerId);
    if (resumed !== undefined) return resumed.held;
    if (!peers.mayAttest(peerId)) return null;
    try {
      return intersect(await d.attest(peerId, { pubsubTopic, contentTopics: topics.keptContentTopics, range: window }, o.signal), [window]);
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
      if (!o.signal.aborted) {
        peers.recordFailure(peerId, errorMessage(err));
        errors.push(`${peerId.slice(-8)}: ${errorMessage(err)}`);
      }
      return undefined;
    }
  };

  const ask = async (peerId: string): Promise<void> => {
    const held = await askCoverage(peerId);
    if (held === undefined) return;
    // It attests it was not there either: its answer proves nothing, but what it holds anyway (a
    // fill from an unattested peer, what relay brought while it was stopping) is worth keeping.
    if (held !== null && held.length === 0) notHeld.push(peerId);
    // Unattested answers only fill: beyond the quorum of them, another adds little.
    if (held === null && unattested.size >= quorum) return;
    const prior = saved.get(peerId);
    let count = prior?.provided ?? 0;
    const gave: Given | null = held !== null && prior === undefined ? new Map() : null;
    const outcome = await fetchRange((req, signal) => d.query(peerId, req, signal), {
      range,
      rules: d.rules,
      resumeCursor: prior?.cursor ?? null,
      maxPages: o.maxPagesPerWindow,
      signal: o.signal,
      onPage: (valid: ArchiveMessage[], rejected, cursor, complete) => {
        const kept = valid.filter((m) => topics.keeps(m.contentTopic));
        // The page and the progress it makes commit together, or neither does.
        const inserted = writer.store(kept, () =>
          history.saveProgress(pubsubTopic, window.start, { peerId, cursor, complete, provided: count + kept.length, held }),
        );
        if (inserted === null) return false;
        count += kept.length;
        newMessages += inserted;
        o.onStored(inserted);
        if (gave !== null) for (const m of kept) gave.set(toHex(m.hash), m.timestamp);
        peers.recordMessages(peerId, kept.length, rejected);
        return true;
      },
    });
    if (outcome.complete) {
      peers.recordSuccess(peerId, outcome.rttMs);
      if (held === null) unattested.add(peerId);
      else {
        attested.set(peerId, held);
        if (gave !== null) given.set(peerId, gave);
      }
      provided.set(peerId, count);
    } else if (outcome.local) {
      unstorable = true;
    } else if (!o.signal.aborted) {
      peers.recordFailure(peerId, outcome.error ?? 'incomplete');
      errors.push(`${peerId.slice(-8)}: ${outcome.error ?? 'incomplete'}`);
    }
  };
  // Up to the quorum of peers at a time, until the quorum holds the whole window or nobody is left.
  const workers = Array.from({ length: Math.max(1, quorum) }, async () => {
    while (!done() && !o.signal.aborted && !unstorable) {
      const next = queue.shift();
      if (next === undefined) return;
      await ask(next);
    }
  });
  await Promise.all(workers);
  if (o.signal.aborted) return { result: 'open', note: null, answeredBy: [] };
  if (unstorable) {
    // Nothing a peer did: the window stays open and is asked again once the archive takes writes.
    return { result: 'open', note: { reason: 'archive-error', detail: writer.error }, answeredBy: [] };
  }

  for (const [peerId, short] of shortPeers(attested, given)) {
    peers.loseStanding(peerId, `lacked ${short} message${short === 1 ? '' : 's'} of ${new Date(window.start).toISOString().slice(0, 10)} that every other attesting peer gave`);
    attested.delete(peerId);
  }
  // Agreement: the share of everything now held for the window that each peer had (an empty window says nothing about a peer).
  const union = d.archive.countInRange(pubsubTopic, range.startNs, range.endNs);
  if (union > 0) for (const [peerId, count] of provided) peers.recordAgreement(peerId, Math.min(1, count / union));

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
  if (parts.length > 0) history.completeWindow(pubsubTopic, window, parts, newMessages);
  else history.forgetFinished(pubsubTopic, window.start);
  const result = totalLength(verified()) >= window.end - window.start && missing.length === 0 ? 'verified' : parts.length > 0 ? 'unverified' : 'open';
  return { result, note, answeredBy: [...attested.keys()] };
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
 * attested holding its moment, did not give it, and every other attesting peer
 * whose whole answer was seen and who held that moment gave it.
 */
function shortPeers(attested: Map<string, Interval[]>, given: Map<string, Given>): Map<string, number> {
  const short = new Map<string, number>();
  if (given.size < 2) return short;
  const holds = (peerId: string, ts: bigint): boolean => {
    const ms = nsToMs(ts);
    return (attested.get(peerId) ?? []).some((i) => ms >= i.start && ms < i.end);
  };
  const seen = new Set<string>();
  for (const gave of given.values()) {
    for (const [hash, ts] of gave) {
      if (seen.has(hash)) continue;
      seen.add(hash);
      const covering = [...given.keys()].filter((id) => holds(id, ts));
      const lacking = covering.filter((id) => !given.get(id)?.has(hash));
      if (lacking.length === 1 && covering.length >= 2) {
        const id = lacking[0] as string;
        short.set(id, (short.get(id) ?? 0) + 1);
      }
    }
  }
  return short;
}
