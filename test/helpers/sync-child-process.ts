/** A SyncService in a child process (sync-child.ts), to be killed with SIGKILL mid-session. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { NODE_FLAGS } from '../../main/node-flags.ts';

const SCRIPT = fileURLToPath(new URL('./sync-child.ts', import.meta.url));

export interface SyncChild {
  proc: ChildProcess;
  addr: Multiaddr;
  /** The archive's message count, as last printed. */
  messages: () => number;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSyncChild(archivePath: string, args: string[] = []): Promise<SyncChild> {
  const proc = spawn(process.execPath, [...NODE_FLAGS, SCRIPT, archivePath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let messages = -1;
  const addr = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { addr?: string; messages?: number };
      if (e.addr !== undefined) resolve(e.addr);
      if (e.messages !== undefined) messages = e.messages;
    });
    proc.once('exit', (code) => reject(new Error(`sync child exited with ${code} before it was ready`)));
  });
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };
  return { proc, addr: multiaddr(addr), messages: () => messages, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
