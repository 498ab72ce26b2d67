/**
 * What a person hands their community so others use this Keeper as a store
 * node: its addresses and ENR, and three ready snippets — an entry for a
 * Status desktop fleets file (`--waku-fleets-config`, the `storeNodes` list
 * status-go reads: `{"id","enr","addr"}`), a js-waku light node naming it as
 * its store peer, and the `--store-peer` line for another Keeper. Pure.
 */
import type { ShareInfo } from '../../contract/contract.ts';

export interface ShareInput {
  peerId: string;
  /** Addresses to give out, best first, without /p2p/. */
  addrs: readonly string[];
  reachable: boolean;
  enr: string;
  clusterId: number;
}

export function buildShare(i: ShareInput): ShareInfo {
  const multiaddrs = i.addrs.map((a) => `${a}/p2p/${i.peerId}`);
  // Status desktop and other Keepers speak TCP: the first plain TCP address, else the best there is.
  const addr = multiaddrs.find((a) => /\/tcp\/\d+\/p2p\//.test(a)) ?? multiaddrs[0] ?? '';
  const fleetsEntry = JSON.stringify({ id: `waku-keeper-${i.peerId.slice(-8)}`, enr: i.enr, addr }, null, 2);
  // js-waku dials WebSockets (secure ones only, unless told otherwise); over plain TCP it needs the TCP transport (Node only).
  const ws = multiaddrs.find((a) => /\/wss\/p2p\//.test(a)) ?? multiaddrs.find((a) => /\/ws\/p2p\//.test(a));
  const jsAddr = ws ?? addr;
  const transport =
    ws === undefined
      ? ['  libp2p: { transports: [tcp()] }, // Node.js: this Keeper has no WebSocket address']
      : ws.includes('/wss/')
        ? []
        : ['  libp2p: { filterMultiaddrs: false }, // a plain ws:// address; browsers need wss://'];
  const jsWaku = [
    'import { createLightNode, Protocols } from "@waku/sdk";',
    ...(ws === undefined ? ['import { tcp } from "@libp2p/tcp";'] : []),
    '',
    `// This Waku Keeper as the store peer, on cluster ${i.clusterId}.`,
    `const keeper = ${JSON.stringify(jsAddr)};`,
    'const node = await createLightNode({',
    `  networkConfig: { clusterId: ${i.clusterId} },`,
    '  defaultBootstrap: false,',
    '  bootstrapPeers: [keeper],',
    '  store: { peers: [keeper] },',
    ...transport,
    '});',
    'await node.start();',
    'await node.waitForPeers([Protocols.Store]);',
    '// node.store.queryGenerator([decoder]) now asks this Keeper.',
    'export { node, keeper };',
    '',
  ].join('\n');
  return {
    peerId: i.peerId,
    multiaddrs,
    enr: i.enr,
    reachable: i.reachable,
    snippets: { fleetsEntry, jsWaku, storePeerFlag: `--store-peer ${addr}` },
  };
}
