/**
 * The live feed a dashboard follows: every log entry as it happens, and a
 * status snapshot shortly after each one and every couple of seconds anyway.
 * One home for the pacing, whether it travels as server-sent events or IPC.
 */
import type { KeeperCommands, KeeperStatus, LogEntry } from './contract.ts';

export interface FeedSource {
  commands: Pick<KeeperCommands, 'getStatus'>;
  /** Live log entries; returns an unsubscribe function. */
  subscribe(onLog: (entry: LogEntry) => void): () => void;
}

export interface FeedSink {
  status(status: KeeperStatus): void;
  log(entry: LogEntry): void;
}

export const FEED_STATUS_EVERY_MS = 2000;
const AFTER_EVENT_MS = 250;

/** Starts feeding `sink`; returns the function that stops it. */
export function startFeed(source: FeedSource, sink: FeedSink): () => void {
  let pending: NodeJS.Timeout | undefined;
  let stopped = false;
  const sendStatus = async (): Promise<void> => {
    pending = undefined;
    const r = await source.commands.getStatus();
    if (r.ok && !stopped) sink.status(r.value);
  };
  const unsubscribe = source.subscribe((entry) => {
    sink.log(entry);
    pending ??= setTimeout(() => void sendStatus(), AFTER_EVENT_MS);
  });
  const tick = setInterval(() => void sendStatus(), FEED_STATUS_EVERY_MS);
  void sendStatus();
  return () => {
    stopped = true;
    clearInterval(tick);
    clearTimeout(pending);
    unsubscribe();
  };
}
