/**
 * The house rules, checked over the real import graph of main/, preload/ and
 * renderer/src/: a wrong import fails the suite. The rules (README,
 * "Architecture") are data here, and the checker is itself tested on a graph
 * that breaks each one, so it cannot pass by finding nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One import: the file that imports, and what it names (a repo path for relative imports, else the package). */
interface Edge {
  from: string;
  to: string;
}

interface Rule {
  why: string;
  /** Files the rule is about. */
  from: RegExp;
  /** What they may not import (repo paths or package names). */
  forbid: RegExp;
  /** Unless it is one of these. */
  unless?: RegExp;
}

const RULES: Rule[] = [
  { why: 'the core runs under plain Node', from: /^main\/core\//, forbid: /^(electron$|main\/electron\/|preload\/|renderer\/)/ },
  { why: 'the contract imports nothing', from: /^main\/contract\//, forbid: /./, unless: /^main\/contract\// },
  {
    why: 'the renderer imports only the contract (and its own files and packages)',
    from: /^renderer\//,
    forbid: /^(main|preload)\/|^electron$|^node:/,
    unless: /^main\/contract\//,
  },
  { why: 'the preload imports only the contract and electron', from: /^preload\//, forbid: /^(main|renderer)\//, unless: /^main\/contract\// },
  { why: 'the archive stands below the node, history, API and store server', from: /^main\/core\/archive\//, forbid: /^main\/core\/(node|history|api|store|settings|communities)\// },
  { why: 'the store server answers from the archive alone', from: /^main\/core\/store\//, forbid: /^main\/core\/(node|history|api|settings|communities)\// },
  { why: 'the coverage protocol is told what is held: it imports no history, node, API or settings code', from: /^main\/core\/coverage\//, forbid: /^main\/core\/(history|node|api|settings|archive|store)\// },
  {
    why: 'sync reads the archive and stores through its writer: it imports archive, message, util and the store codec, never history, API, node, settings or the Keeper',
    from: /^main\/core\/sync\//,
    forbid: /^main\/(contract\/|core\/(?!sync\/|archive\/|message\/|util\/|store\/codec\.ts$))/,
  },
  { why: 'message rules depend on nothing but helpers', from: /^main\/core\/message\//, forbid: /^main\/core\/(?!message\/|util\/)/ },
  { why: 'helpers depend on no part', from: /^main\/core\/util\//, forbid: /^main\/(core\/(?!util\/)|contract\/)/ },
  { why: 'history is told how to reach peers: it imports no node or API code', from: /^main\/core\/history\//, forbid: /^main\/core\/(node|api)\// },
  { why: 'settings read no protocol code', from: /^main\/core\/settings\//, forbid: /^main\/core\/(store|node|history|api|archive)\// },
  { why: 'only the entry points start a Keeper', from: /^main\/core\/(?!keeper\.ts$)/, forbid: /^main\/core\/keeper\.ts$/ },
  {
    why: 'the REST API reaches the Keeper through what it is handed: message, store, util, node, settings, archive and the contract',
    from: /^main\/core\/rest\//,
    forbid: /^main\//,
    unless: /^main\/(core\/(rest|message|store|util|node|settings|archive)\/|contract\/)/,
  },
  { why: 'only the Keeper wires the REST API', from: /^(?!main\/core\/(keeper\.ts$|rest\/))/, forbid: /^main\/core\/rest\// },
  {
    why: 'discovery (ENR, discv5, the share card) is handed addresses: it imports only helpers and the contract',
    from: /^main\/core\/discovery\//,
    forbid: /^main\//,
    unless: /^main\/(core\/(discovery|util)\/|contract\/)/,
  },
  {
    why: 'reachability knows the node, its record and its flags, and no archive, store, history, API, REST or sync code',
    from: /^main\/core\/reach\//,
    forbid: /^main\/core\/(archive|store|history|api|rest|sync|coverage)\//,
  },
  {
    why: 'announcements are handed what to say and how to publish: they import no history, node, API, settings, archive, REST, sync or reachability code',
    from: /^main\/core\/announce\//,
    forbid: /^main\/core\/(history|node|api|settings|archive|rest|sync|reach|discovery)\//,
  },
  { why: 'the node is handed reachability and discovery, it does not reach for them', from: /^main\/core\/node\//, forbid: /^main\/core\/(reach|discovery)\// },
];

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|svelte)$/.test(name) && !/\.test\.ts$/.test(name) && !/\.d\.ts$/.test(name)) out.push(rel);
  }
  return out;
}

function importsOf(file: string, text: string): Edge[] {
  // In a .svelte file only its scripts import.
  const code = file.endsWith('.svelte') ? [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') : text;
  const edges: Edge[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    const to = spec.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, file)), spec)) : spec;
    edges.push({ from: file, to });
  }
  return edges;
}

function violations(edges: readonly Edge[], rules: readonly Rule[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    for (const r of rules) {
      if (!r.from.test(e.from) || !r.forbid.test(e.to) || r.unless?.test(e.to)) continue;
      out.push(`${e.from} imports ${e.to}: ${r.why}`);
    }
  }
  return out;
}

const graph = (): Edge[] => ['main', 'preload', 'renderer/src'].flatMap(sourceFiles).flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));

describe('layers', () => {
  it('reads the real import graph', () => {
    const edges = graph();
    assert.ok(edges.length > 200, `only ${edges.length} imports found`);
    assert.ok(edges.some((e) => e.from === 'main/core/keeper.ts' && e.to === 'main/core/archive/archive.ts'));
    assert.ok(edges.some((e) => e.from === 'preload/index.ts' && e.to === 'main/contract/contract.ts'));
    assert.ok(edges.some((e) => e.from.startsWith('renderer/src/views/') && e.from.endsWith('.svelte') && e.to === 'main/contract/contract.ts'));
  });

  it('every import keeps to the house rules', () => {
    assert.deepEqual(violations(graph(), RULES), []);
  });

  it('the checker catches each kind of wrong import', () => {
    const wrong: Edge[] = [
      { from: 'main/core/node/relay-intake.ts', to: 'electron' },
      { from: 'main/core/api/http.ts', to: 'main/electron/ipc.ts' },
      { from: 'main/contract/contract.ts', to: 'main/core/message/validate.ts' },
      { from: 'main/contract/contract.ts', to: 'node:fs' },
      { from: 'renderer/src/views/History.svelte', to: 'main/core/history/completeness.ts' },
      { from: 'renderer/src/lib/format.ts', to: 'node:path' },
      { from: 'preload/index.ts', to: 'main/electron/ipc.ts' },
      { from: 'main/core/archive/writer.ts', to: 'main/core/history/filler.ts' },
      { from: 'main/core/archive/archive.ts', to: 'main/core/node/libp2p.ts' },
      { from: 'main/core/message/decode.ts', to: 'main/core/archive/archive.ts' },
      { from: 'main/core/util/time.ts', to: 'main/contract/contract.ts' },
      { from: 'main/core/history/filler.ts', to: 'main/core/node/libp2p.ts' },
      { from: 'main/core/settings/config.ts', to: 'main/core/store/rate-limit.ts' },
      { from: 'main/core/api/commands.ts', to: 'main/core/keeper.ts' },
      { from: 'main/core/store/server.ts', to: 'main/core/history/filler.ts' },
      { from: 'main/core/coverage/server.ts', to: 'main/core/history/history-service.ts' },
      { from: 'main/core/sync/service.ts', to: 'main/core/history/consistency.ts' },
      { from: 'main/core/sync/service.ts', to: 'main/core/node/libp2p.ts' },
      { from: 'main/core/rest/relay.ts', to: 'main/core/communities/topic-plan.ts' },
      { from: 'main/core/rest/server.ts', to: 'main/core/api/http.ts' },
      { from: 'main/core/api/http.ts', to: 'main/core/rest/server.ts' },
      { from: 'main/core/discovery/discv5-service.ts', to: 'main/core/reach/reach-service.ts' },
      { from: 'main/core/reach/reach-service.ts', to: 'main/core/history/store-peers.ts' },
      { from: 'main/core/node/libp2p.ts', to: 'main/core/discovery/discv5-service.ts' },
      { from: 'main/core/announce/tracker.ts', to: 'main/core/history/store-peers.ts' },
      { from: 'main/core/announce/publisher.ts', to: 'main/core/node/relay.ts' },
    ];
    const found = violations(wrong, RULES);
    assert.equal(found.length, wrong.length, found.join('\n'));
    const fine: Edge[] = [
      { from: 'main/core/archive/archive.ts', to: 'node:fs' },
      { from: 'main/core/archive/writer.ts', to: 'main/core/message/message.ts' },
      { from: 'main/core/sync/transfer.ts', to: 'main/core/archive/writer.ts' },
      { from: 'renderer/src/lib/format.ts', to: 'main/contract/contract.ts' },
      { from: 'preload/index.ts', to: 'electron' },
      { from: 'main/electron/ipc.ts', to: 'main/core/keeper.ts' },
      { from: 'main/cli.ts', to: 'main/core/keeper.ts' },
      { from: 'main/core/keeper.ts', to: 'main/core/rest/server.ts' },
      { from: 'main/core/rest/store.ts', to: 'main/core/store/codec.ts' },
      { from: 'main/core/reach/presence.ts', to: 'main/core/discovery/discv5-service.ts' },
      { from: 'main/core/keeper.ts', to: 'main/core/reach/presence.ts' },
      { from: 'main/core/announce/announcement.ts', to: 'main/core/coverage/attestation.ts' },
    ];
    assert.deepEqual(violations(fine, RULES), []);
  });
});
