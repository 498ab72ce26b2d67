/**
 * One window filled from in-process store peers (the real archive, writer,
 * history records and peer registry; each peer a real archive answered by the
 * real Store v3 answer code, over the wire codec): what an answer is worth
 * depends on who gave it. An unattested peer's complete listing holds the
 * window unverified; the same listing from a peer that lost its standing
 * delivers its messages but holds nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnsupportedProtocolError } from '@libp2p/interface';
import { Archive } from '../../main/core/archive/archive.ts';
import { ArchiveWriter } from '../../main/core/archive/writer.ts';
import { fillWindow } from '../../main/core/history/fill-window.ts';
import type { HistoryDeps } from '../../main/core/history/deps.ts';
import { HistoryStore } from '../../main/core/history/history-store.ts';
import { StorePeerRegistry } from '../../main/core/history/store-peers.ts';
import { DEFAULT_RULES } from '../../main/core/message/validate.ts';
import { answerRequest } from '../../main/core/store/answer.ts';
import { decodeResponseRaw, encodeRequest, decodeRequest, encodeResponse } from '../../main/core/store/codec.ts';
import type { ArchiveMessage } from '../../main/core/message/message.ts';
import { series, TEST_PUBSUB } from '../helpers/messages.ts';

const MIN = 60_000;

function setup(peerMessages: Record<string, ArchiveMessage[]>) {
  const archive = Archive.open(':memory:');
  const history = new HistoryStore(archive);
  const peers = new StorePeerRegistry(history, 'self', { isConnected: () => true });
  const held = new Map<string, Archive>();
  let requests = 0;
  for (const [id, messages] of Object.entries(peerMessages)) {
    const a = Archive.open(':memory:');
    a.insert(messages);
    held.set(id, a);
    peers.addStatic(id, `/ip4/127.0.0.1/tcp/1/p2p/${id}`);
  }
  const d: HistoryDeps = {
    archive,
    writer: new ArchiveWriter(archive),
    history,
    peers,
    // Through the wire codec both ways, as a remote peer's answer arrives.
    query: async (peerId, request) => {
      const a = held.get(peerId);
      if (a === undefined) throw new Error(`no peer ${peerId}`);
      return decodeResponseRaw(encodeResponse(answerRequest(a, decodeRequest(encodeRequest({ requestId: String(++requests), ...request })))));
    },
    // Nobody here speaks the coverage protocol: every answer is unattested.
    attest: () => Promise.reject(new UnsupportedProtocolError('no coverage protocol')),
    topics: { pubsubTopics: [TEST_PUBSUB], communities: [], baseContentTopics: [], keptContentTopics: [], keeps: () => true },
    rules: DEFAULT_RULES,
    emit: () => undefined,
  };
  const scope = history.ensureScope({ pubsubTopic: TEST_PUBSUB, contentTopics: [] }, null, 0);
  const close = (): void => {
    archive.close();
    for (const a of held.values()) a.close();
  };
  return { d, scope, peers, archive, history, close };
}

const options = { fillQuorum: 2, marginMs: 0, maxPagesPerWindow: 100, signal: new AbortController().signal, onStored: () => undefined };

describe('filling one window', () => {
  const now = Date.now();
  const window = { start: now - 60 * MIN, end: now - 30 * MIN };
  const messages = series(30, BigInt(window.start + MIN) * 1_000_000n, { stepNs: BigInt(MIN) * 1_000_000n / 2n });

  it('an unattested peer\'s complete listing fills the window, held but not verified', async () => {
    const { d, scope, history, archive, close } = setup({ nwaku: messages });
    const out = await fillWindow(d, { scope, window, prior: null }, options);
    assert.equal(out.result, 'unverified');
    assert.equal(archive.stats().messages, 30);
    const filled = history.coverage(scope.id).filter((r) => r.kind === 'filled');
    assert.deepEqual(filled.map((r) => [r.start, r.end, r.verified, r.attested, r.peers]), [[window.start, window.end, false, false, ['nwaku']]]);
    close();
  });

  it('a peer that lost its standing delivers its messages, checked, but its listing holds nothing', async () => {
    const { d, scope, peers, history, archive, close } = setup({ liar: messages });
    peers.loseStanding('liar', 'answered short of its attestation');
    const out = await fillWindow(d, { scope, window, prior: null }, options);
    assert.equal(out.result, 'open');
    assert.equal(archive.stats().messages, 30, 'what it delivers is real: every message was checked');
    assert.deepEqual(history.coverage(scope.id).filter((r) => r.kind === 'filled'), []);
    close();
  });

  it('an empty listing from a peer that lost its standing leaves the window a gap; from one with standing it is held', async () => {
    for (const [standing, expected] of [[false, 'open'], [true, 'unverified']] as const) {
      const { d, scope, peers, history, close } = setup({ p: [] });
      if (!standing) peers.loseStanding('p', 'sent forgeries');
      const out = await fillWindow(d, { scope, window, prior: null }, options);
      assert.equal(out.result, expected);
      assert.equal(history.coverage(scope.id).some((r) => r.kind === 'filled'), standing);
      close();
    }
  });
});
