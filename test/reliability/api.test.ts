/**
 * The local API exposes nothing on the machine: loopback unless told
 * otherwise, every data route behind the token, foreign origins and Host names
 * refused, and no secret in what it logs or serves as the log.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { COMMANDS } from '../../main/contract/contract.ts';
import { defaultConfig } from '../../main/core/settings/config.ts';
import { redact } from '../../main/electron/log-file.ts';
import { startKeeper } from '../helpers/keeper.ts';
import type { TestKeeper } from '../helpers/keeper.ts';

function raw(url: string, method: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'null' : undefined);
  });
}

describe('local API', () => {
  let k: TestKeeper | undefined;
  after(async () => {
    await k?.dispose();
  });

  it('listens on loopback by default', () => {
    assert.deepEqual(defaultConfig().api, { host: '127.0.0.1', port: 8647 });
  });

  it('needs the token on every data route', async () => {
    k = await startKeeper();
    const token = readFileSync(join(k.dataDir, 'api-token'), 'utf8').trim();
    const base = k.apiUrl;
    const routes: [string, string][] = [
      ['GET', '/api/status'],
      ['GET', '/api/stream'],
      ['GET', '/metrics'],
      ...COMMANDS.map((c) => ['POST', `/api/commands/${c}`] as [string, string]),
    ];
    for (const [method, path] of routes) {
      const json = { 'Content-Type': 'application/json' };
      assert.equal(await raw(`${base}${path}`, method, json), 401, `${method} ${path} without a token`);
      assert.equal(await raw(`${base}${path}`, method, { ...json, Authorization: 'Bearer 0000' }), 401, `${method} ${path} with a wrong token`);
      assert.equal(await raw(`${base}${path}`, method, { ...json, Authorization: `Bearer ${token.slice(0, -1)}x` }), 401);
    }
    assert.equal(await raw(`${base}/api/status`, 'GET', { Authorization: `Bearer ${token}` }), 200);
  });

  it('refuses other web origins and Host names, even with the token', async () => {
    const token = readFileSync(join(k!.dataDir, 'api-token'), 'utf8').trim();
    const base = k!.apiUrl;
    const auth = { Authorization: `Bearer ${token}` };
    assert.equal(await raw(`${base}/api/status`, 'GET', { ...auth, Origin: 'https://evil.example' }), 403);
    assert.equal(await raw(`${base}/api/status`, 'GET', { ...auth, Origin: 'null' }), 403);
    assert.equal(await raw(`${base}/api/status`, 'GET', { ...auth, Host: 'evil.example' }), 421);
    assert.equal(await raw(`${base}/`, 'GET', { Host: 'rebind.example:8647' }), 421);
    assert.equal(await raw(`${base}/api/status`, 'GET', { ...auth, Origin: base }), 200, 'its own origin is fine');
  });

  it('keeps the token out of the log it serves and the log file', async () => {
    const token = readFileSync(join(k!.dataDir, 'api-token'), 'utf8').trim();
    const log = await k!.keeper.commands.getLog();
    assert.ok(log.ok);
    const text = JSON.stringify(log.value);
    assert.ok(text.includes('"event":"ready"'));
    assert.ok(!text.includes(token), 'the served log has no token');
    assert.equal(redact(`{"dashboard":"http://127.0.0.1:8647/#token=${token}"}`), '{"dashboard":"http://127.0.0.1:8647/#token=…"}');
    assert.equal(redact(`Authorization: Bearer ${token}`), 'Authorization: Bearer …');
  });
});
