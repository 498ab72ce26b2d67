/**
 * How the node's process runs: V8 flags and the C allocator's settings. A
 * small young generation keeps a volunteer's node small: with V8's default it
 * grew to 350 MB while ingesting a million messages, with this one it stayed
 * under 260 MB. Most of what was left grew outside the JavaScript heap (24 MB
 * of it after the million): glibc's malloc kept what SQLite and the buffers
 * of the network had freed, in an arena per thread and in a heap it never
 * trimmed. Two arenas, and blocks of 128 KiB and more mapped and unmapped on
 * their own, brought the same run to 180 MB (npm run bench, memory).
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'];

/** glibc's malloc tunables (other C libraries ignore them). A value the user set is kept. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** The environment the node runs with: `env` with the allocator's settings added where not set. */
export function nodeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...ALLOCATOR_ENV, ...env };
}

/**
 * Re-executes this process in place with NODE_FLAGS and the allocator's
 * settings when it was started without them (process.execve, Node 23.11+ on
 * Unix; the allocator reads its settings only at start); elsewhere it runs on
 * as it is, with the defaults.
 */
export function ensureNodeFlags(): void {
  const hasFlags = NODE_FLAGS.every((f) => process.execArgv.includes(f));
  const hasEnv = Object.keys(ALLOCATOR_ENV).every((k) => process.env[k] !== undefined);
  if (hasFlags && hasEnv) return;
  if (process.env.WAKU_KEEPER_FLAGS_TRIED === '1' || process.platform === 'win32') return;
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return;
  const flags = NODE_FLAGS.filter((f) => !process.execArgv.includes(f));
  execve.call(process, process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], {
    ...nodeEnv(),
    WAKU_KEEPER_FLAGS_TRIED: '1',
  });
}
