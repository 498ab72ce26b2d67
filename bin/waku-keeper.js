#!/usr/bin/env node
// Launcher: checks the Node version, then runs the compiled CLI (npm run build)
// or, in a source checkout, the TypeScript entry directly.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`waku-keeper needs Node.js 22 or newer; this is ${process.version}.`);
  process.exit(2);
}
const compiled = new URL('../dist/main/cli.js', import.meta.url);
const entry = existsSync(compiled) ? compiled : new URL('../main/cli.ts', import.meta.url);
const { main } = await import(entry.href);
process.exit(await main(process.argv.slice(2)));
