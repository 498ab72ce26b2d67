#!/usr/bin/env node
// Launcher: checks the Node version, applies the node's V8 flags, then runs the
// compiled CLI (npm run build) or, in a source checkout, the TypeScript entry.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`waku-keeper needs Node.js 22 or newer; this is ${process.version}.`);
  process.exit(2);
}
const built = existsSync(new URL('../dist/main/cli.js', import.meta.url));
const from = (name) => new URL(built ? `../dist/main/${name}.js` : `../main/${name}.ts`, import.meta.url).href;
const { ensureNodeFlags } = await import(from('node-flags'));
ensureNodeFlags();
const { main } = await import(from('cli'));
process.exit(await main(process.argv.slice(2)));
