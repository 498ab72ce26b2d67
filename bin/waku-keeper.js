#!/usr/bin/env node
// Launcher: checks the Node version, applies the node's V8 flags, then runs the
// TypeScript entry in a source checkout (on a Node that strips types), or the
// compiled one (npm run build) where the sources are not there.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`waku-keeper needs Node.js 22 or newer; this is ${process.version}.`);
  process.exit(2);
}
const fromSource = existsSync(new URL('../main/cli.ts', import.meta.url)) && Boolean(process.features.typescript);
const from = (name) => new URL(fromSource ? `../main/${name}.ts` : `../dist/main/${name}.js`, import.meta.url).href;
const { ensureNodeFlags } = await import(from('node-flags'));
ensureNodeFlags();
const { main } = await import(from('cli'));
process.exit(await main(process.argv.slice(2)));
