/**
 * `npm start`: the desktop app where Electron can start, otherwise the headless
 * node with its dashboard — after one line that says why. Either way the run
 * ends in a Keeper and its `ready` line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeFlags } from './node-flags.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Why Electron cannot start here, or null when it can. */
export function whyNoElectron(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  if (env.WAKU_KEEPER_HEADLESS === '1') return 'WAKU_KEEPER_HEADLESS=1 is set';
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return null;
}

/** The Electron binary, fetching it first if this install has not yet (Electron 42+ downloads on first launch). */
function electronBinary(): { path: string } | { error: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { error: 'the electron package is not installed' };
  }
  const located = (): string | null => {
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const bin = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(bin) ? bin : null;
  };
  const found = located();
  if (found) return { path: found };
  process.stderr.write('waku-keeper: fetching the Electron binary (first launch)…\n');
  const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
  const fetched = located();
  if (fetched) return { path: fetched };
  const detail = r.error?.message ?? r.stderr?.toString().trim().split('\n').pop() ?? `exit ${r.status}`;
  return { error: `the Electron binary is missing and could not be downloaded (${detail.slice(0, 160)})` };
}

async function headless(reason: string): Promise<never> {
  process.stderr.write(`waku-keeper: the desktop app cannot start: ${reason}; running the headless node with its dashboard instead.\n`);
  const { main } = (await import('./cli.ts')) as { main: (argv: string[]) => Promise<number> };
  process.exit(await main(process.argv.slice(2)));
}

async function desktop(bin: string): Promise<never> {
  // The main process and the preload run compiled, as they will from the package.
  for (const script of ['build:main', 'build:preload']) {
    const r = spawnSync('npm', ['run', '-s', script], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) return headless(`npm run ${script} failed`);
  }
  const child = spawn(bin, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  process.exit(code);
}

if (import.meta.main) {
  const reason = whyNoElectron();
  if (reason !== null) ensureNodeFlags();
  if (reason !== null) await headless(reason);
  const bin = electronBinary();
  if ('error' in bin) await headless(bin.error);
  else await desktop(bin.path);
}
