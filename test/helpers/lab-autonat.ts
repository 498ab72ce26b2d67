/**
 * A plain libp2p node (TCP, noise, yamux/mplex, identify) that answers AutoNAT
 * v1 dial-back questions, as a stranger on the internet. It runs Keeper's
 * AutoNAT server module: @libp2p/autonat 2.x's server closes the asker's own
 * connection instead of dialling back (see main/core/reach/dial-back.ts).
 * Prints its multiaddr as JSON.
 * Usage (inside a namespace, with lab-internet.ts imported): node lab-autonat.ts HOST PORT
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { AutonatServer } from '../../main/core/reach/autonat-server.ts';

const [host = '0.0.0.0', port = '4001'] = process.argv.slice(2);
const node = await createLibp2p({
  addresses: { listen: [`/ip4/${host}/tcp/${port}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux(), mplex()],
  services: { identify: identify() },
});
const server = new AutonatServer(node);
await server.start();
process.stdout.write(`${JSON.stringify({ multiaddr: `/ip4/${host}/tcp/${port}/p2p/${node.peerId.toString()}` })}\n`);
process.on("SIGTERM", () => void Promise.resolve(node.stop()).then(() => process.exit(0)));
