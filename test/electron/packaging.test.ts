/**
 * Release packaging, checked offline: electron-builder.yml against
 * electron-builder's own schema, and a packaging dry run into a directory with
 * a placeholder Electron (test only: the real binary cannot be downloaded here)
 * whose asar must hold the built dashboard, with better-sqlite3's binary unpacked.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

describe('release packaging', () => {
  const work = mkdtempSync(join(tmpdir(), 'keeper-pack-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;

  it('electron-builder.yml is valid by electron-builder\'s own schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const valid = ajv.validate(schema, config);
    assert.ok(valid, ajv.errorsText(ajv.errors));
    // And says what the release promises.
    const fuses = config.electronFuses as Record<string, boolean>;
    assert.equal(fuses.runAsNode, false);
    assert.equal(fuses.onlyLoadAppFromAsar, true);
    assert.equal(fuses.enableEmbeddedAsarIntegrityValidation, true);
    assert.deepEqual((config.linux as { target: string[] }).target, ['AppImage', 'deb']);
    assert.equal((config.mac as { hardenedRuntime: boolean }).hardenedRuntime, true);
    assert.deepEqual((config.win as { target: string[] }).target, ['nsis']);
    assert.equal((config.publish as { provider: string }).provider, 'github');
  });

  it('packages the app: the asar holds the built dashboard, better-sqlite3 is unpacked', () => {
    for (const f of ['dist/main/electron/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html']) {
      assert.ok(existsSync(join(ROOT, f)), `${f} is built (npm run build)`);
    }
    // A placeholder Electron: an executable named like the real one, and the resources dir.
    const electronDist = join(work, 'electron-dist');
    mkdirSync(join(electronDist, 'resources'), { recursive: true });
    writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(electronDist, 'electron'), 0o755);
    writeFileSync(join(electronDist, 'version'), '45.5.0');
    const out = join(work, 'out');
    // The release config, but with the placeholder, and without fuses: the
    // placeholder has no fuse wire to flip (the real release does).
    const dryRun = { ...config, electronDist, electronVersion: '45.5.0', directories: { ...(config.directories as object), output: out } };
    delete (dryRun as { electronFuses?: unknown }).electronFuses;
    const dryRunConfig = join(work, 'electron-builder.json');
    writeFileSync(dryRunConfig, JSON.stringify(dryRun));
    const r = spawnSync(
      process.execPath,
      [require.resolve('electron-builder/cli.js'), '--config', dryRunConfig, '--linux', 'dir', '--x64', '--publish', 'never'],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
    );
    assert.equal(r.status, 0, `electron-builder failed:\n${r.stdout}\n${r.stderr}`);
    const resources = join(out, 'linux-unpacked', 'resources');
    const asar = require('@electron/asar') as { listPackage(p: string, o: object): string[] };
    const files = asar.listPackage(join(resources, 'app.asar'), {}).map((f) => f.replaceAll('\\', '/'));
    assert.ok(files.includes('/dist/renderer/index.html'), 'the dashboard is in the asar');
    assert.ok(files.includes('/dist/main/electron/main.js'), 'the main process is in the asar');
    assert.ok(files.includes('/dist/preload/preload.cjs'), 'the preload is in the asar');
    assert.ok(!files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f.startsWith('/dist')), 'no TypeScript sources');
    assert.ok(!files.some((f) => f.startsWith('/test/') || f.startsWith('/renderer/src/')), 'no tests or renderer sources');
    const unpacked = join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3');
    assert.ok(existsSync(join(unpacked, 'prebuilds', 'linux-x64.node')), 'better-sqlite3 is unpacked with its binary');
  });
});
