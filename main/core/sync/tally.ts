/** What sync sessions came to: one result per session, and the service's running counts (for status and metrics). */

export type SyncOutcome = 'complete' | 'truncated' | 'refused' | 'cut-off' | 'failed';

export interface SyncResult {
  peer: string;
  role: 'initiator' | 'responder';
  /**
   * complete: both sides went through every range. truncated: a budget (diffs,
   * reply size) left differences for another session. refused: the peer shares
   * none of the topics, is busy, or rate limits us. cut-off: the peer broke the
   * protocol or a bound (`reason` says which). failed: transport (dial, reset).
   */
  outcome: SyncOutcome;
  reason?: string;
  rounds: number;
  reconciliationBytes: number;
  transferBytesSent: number;
  /** Found missing at the peer, pushed, and found but not sent. */
  theyLacked: number;
  pushed: number;
  unsent: number;
  pushError?: string;
  /** Found missing here; of those received and valid, new to the archive; never delivered. */
  weLacked: number;
  received: number;
  stored: number;
  undelivered: number;
  /** Pushed messages refused: invalid, off-scope, never asked for. */
  refused: number;
  ms: number;
}

export interface SyncCounters {
  sessions: { initiated: number; answered: number } & Record<SyncOutcome, number>;
  /** Sessions and transfer streams cut off, by reason. */
  cutOff: Record<string, number>;
  /** Sessions refused to peers: rate limit, too many at once, stopping. */
  rateLimited: number;
  messages: { pushed: number; unsent: number; received: number; stored: number; undelivered: number };
  /** Pushed messages refused, by reason. */
  refused: Record<string, number>;
}

export function emptyCounters(): SyncCounters {
  return {
    sessions: { initiated: 0, answered: 0, complete: 0, truncated: 0, refused: 0, 'cut-off': 0, failed: 0 },
    cutOff: {},
    rateLimited: 0,
    messages: { pushed: 0, unsent: 0, received: 0, stored: 0, undelivered: 0 },
    refused: {},
  };
}

export class SyncTally {
  private readonly c = emptyCounters();

  session(r: SyncResult): void {
    if (r.role === 'initiator') this.c.sessions.initiated++;
    else this.c.sessions.answered++;
    this.c.sessions[r.outcome]++;
    if (r.outcome === 'cut-off') this.cutOff(r.reason ?? 'unknown');
    this.c.messages.pushed += r.pushed;
    this.c.messages.unsent += r.unsent;
    this.c.messages.received += r.received;
    this.c.messages.stored += r.stored;
    this.c.messages.undelivered += r.undelivered;
  }

  cutOff(reason: string): void {
    this.c.cutOff[reason] = (this.c.cutOff[reason] ?? 0) + 1;
  }

  rateLimited(): void {
    this.c.rateLimited++;
  }

  refused(reason: string): void {
    this.c.refused[reason] = (this.c.refused[reason] ?? 0) + 1;
  }

  snapshot(): SyncCounters {
    return structuredClone(this.c);
  }
}
