/**
 * The V8 flags the node runs with. A small young generation keeps a volunteer's
 * node small: with V8's default it grew to 350 MB while ingesting a million
 * messages, with this one it stayed under 240 MB (npm run bench, memory).
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * Re-executes this process in place with NODE_FLAGS when it was started
 * without them (process.execve, Node 23.11+ on Unix); elsewhere it runs on as
 * it is, with V8's defaults.
 */
export function ensureNodeFlags(): void {
  if (NODE_FLAGS.every((f) => process.execArgv.includes(f))) return;
  if (process.env.WAKU_KEEPER_FLAGS_TRIED === '1' || process.platform === 'win32') return;
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return;
  execve.call(process, process.execPath, [process.execPath, ...NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    WAKU_KEEPER_FLAGS_TRIED: '1',
  });
}
