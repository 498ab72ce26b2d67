/**
 * `waku-keeper`: the Keeper without Electron. One JSON line per event on
 * stdout, `ready` first; a bad flag gets a message naming it and exit code 2;
 * SIGINT and SIGTERM stop the node gracefully.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCli } from './core/settings/config.ts';
import { USAGE } from './core/settings/usage.ts';
import { ConfigError } from './core/util/errors.ts';
import type { KeeperEvent } from './contract/contract.ts';
import { Keeper } from './core/keeper.ts';
import { VERSION } from './core/util/version.ts';
import { errorMessage } from './core/util/errors.ts';
import { ensureNodeFlags } from './node-flags.ts';

function printLine(e: KeeperEvent): void {
  process.stdout.write(`${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let request;
  try {
    request = parseCli(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`waku-keeper: ${err.message}\nRun waku-keeper --help for the options.\n`);
      return 2;
    }
    throw err;
  }
  if (request.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (request.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }

  // The built dashboard: dist/renderer from a source checkout, ../renderer from dist/main.
  const rendererDir = ['../dist/renderer', '../renderer']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((dir) => existsSync(`${dir}/index.html`));
  request.config.rendererDir = rendererDir;

  // `ready` is the first line: what happens while starting is held until then.
  let ready = false;
  const held: KeeperEvent[] = [];
  const onEvent = (e: KeeperEvent): void => {
    if (e.event === 'ready') {
      ready = true;
      printLine(e);
      for (const h of held.splice(0)) printLine(h);
    } else if (ready) printLine(e);
    else held.push(e);
  };

  let keeper: Keeper;
  try {
    keeper = await Keeper.start(request.config, { onEvent });
  } catch (err) {
    for (const h of held.splice(0)) process.stderr.write(`${JSON.stringify(h)}\n`);
    process.stderr.write(`waku-keeper: cannot start: ${errorMessage(err)}\n`);
    // A flag whose value the machine refuses (a UDP port in use) is bad input too.
    return err instanceof ConfigError ? 2 : 1;
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write('waku-keeper: second signal, exiting now\n');
        process.exit(130);
      }
      keeper.stop(`received ${signal}`).then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`waku-keeper: unclean stop: ${String(err)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

if (import.meta.main) {
  ensureNodeFlags();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`waku-keeper: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
