/**
 * For the network-namespace tests only, loaded with `node --import`: in those
 * namespaces TEST-NET-2 and TEST-NET-3 (198.51.100.0/24, 203.0.113.0/24) play
 * the public internet, so libp2p's list of private ranges (which holds them,
 * as reserved documentation ranges) is told they are public. 198.18.0.0/15
 * stays private: it plays the home LAN. Nothing in the app loads this.
 */
import { registerHooks } from 'node:module';

const LAB_PUBLIC = ["'198.51.100.0/24',", "'203.0.113.0/24',"];

registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (!url.endsWith('/@libp2p/utils/dist/src/private-ip.js') || loaded.source === undefined) return loaded;
    let source = String(loaded.source);
    for (const range of LAB_PUBLIC) source = source.replace(range, '');
    return { ...loaded, source };
  },
});
