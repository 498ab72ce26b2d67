/** `npm run test:reliability`: every reliability test at full size, one file at a time. */
import { spawnSync } from 'node:child_process';

const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', 'test/reliability/**/*.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, RELIABILITY_FULL: '1' },
});
process.exit(r.status ?? 1);
