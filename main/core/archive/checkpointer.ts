/**
 * WAL checkpoints off the hot path. SQLite's automatic checkpoint runs inside
 * the commit that crosses the threshold, on the writer's thread: with Keeper's
 * small, frequent commits that doubled the cost of ingest and stalled the event
 * loop. Instead a worker thread with its own connection runs a PASSIVE
 * checkpoint every few seconds; writers and readers go on meanwhile.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 2000');
db.pragma('cache_size = -256');
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ ok: true, busy: r.busy, log: r.log, checkpointed: r.checkpointed });
    } catch (err) {
      parentPort.postMessage({ ok: false, error: String(err) });
    }
  } else if (m === 'close') {
    db.close();
    parentPort.close();
  }
});
`;

export interface CheckpointResult {
  ok: boolean;
  /** WAL frames, and how many of them reached the database file. */
  log?: number;
  checkpointed?: number;
  error?: string;
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;
  private closed = false;
  last: CheckpointResult | null = null;

  constructor(path: string, everyMs = 2000) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver } });
    this.worker.on('message', (r: CheckpointResult) => {
      this.inFlight = false;
      this.last = r;
    });
    this.worker.on('error', (err) => {
      this.last = { ok: false, error: String(err) };
    });
    // After the listeners, which would ref it again: the worker never keeps the process alive.
    this.worker.unref();
    this.timer = setInterval(() => this.request(), everyMs);
    this.timer.unref();
  }

  /** Asks for a checkpoint unless one is under way. */
  request(): void {
    if (this.closed || this.inFlight) return;
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
