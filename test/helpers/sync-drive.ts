/** Runs two ReconcileSessions against each other with no network: frames handed across, rounds and bytes counted. */
import { ReconcileSession } from '../../main/core/sync/session.ts';
import type { Scope, SessionLimits, Step } from '../../main/core/sync/session.ts';
import type { ReconcileParams } from '../../main/core/sync/reconcile.ts';
import type { SyncId } from '../../main/core/sync/ids.ts';
import type { SyncStorage } from '../../main/core/sync/storage.ts';

export interface Drive {
  rounds: number;
  bytes: number;
  /** What each side found the other lacks (what it would push). */
  aPushes: SyncId[];
  bPushes: SyncId[];
  /** What each side found it lacks (what it would expect). */
  aWants: SyncId[];
  bWants: SyncId[];
  truncated: boolean;
  refused: boolean;
}

export interface DriveOptions {
  scope?: Scope;
  responderScope?: Scope;
  params?: Partial<ReconcileParams>;
  responderParams?: Partial<ReconcileParams>;
  limits?: Partial<SessionLimits>;
  /** The responder's floor (ns): what it does not keep. */
  responderFloorNs?: bigint;
}

export async function drive(a: SyncStorage, b: SyncStorage, window: { lower: SyncId; upper: SyncId }, o: DriveOptions = {}): Promise<Drive> {
  const scope = o.scope ?? { pubsubTopics: ['/waku/2/rs/16/32'], contentTopics: [] };
  const initiator = new ReconcileSession({ role: 'initiator', scope, window, storageFor: () => a, params: o.params, limits: o.limits });
  const responder = new ReconcileSession({
    role: 'responder',
    scope: o.responderScope ?? { pubsubTopics: [], contentTopics: [] },
    storageFor: () => b,
    params: o.responderParams ?? o.params,
    limits: o.limits,
    floorNs: o.responderFloorNs,
  });
  const out = await exchange(await initiator.open(), initiator, responder);
  out.truncated = initiator.truncated || responder.truncated;
  out.refused = initiator.refused;
  return out;
}

/** One side of a session, whoever implements it. */
export interface Side {
  receive(frame: Uint8Array): Promise<Step>;
}

/** Hands frames between two sides, starting with the initiator's first, until both are done. */
export async function exchange(first: Uint8Array, initiator: Side, responder: Side): Promise<Drive> {
  const out: Drive = { rounds: 0, bytes: first.length, aPushes: [], bPushes: [], aWants: [], bWants: [], truncated: false, refused: false };
  let frame: Uint8Array | null = first;
  let turn: Side = responder;
  while (frame !== null) {
    const step = await turn.receive(frame);
    out.rounds++;
    (turn === initiator ? out.aPushes : out.bPushes).push(...step.theyLack);
    (turn === initiator ? out.aWants : out.bWants).push(...step.weLack);
    frame = step.reply;
    if (frame !== null) out.bytes += frame.length;
    if (step.done) {
      // The other side reads the last frame and is done too.
      if (frame !== null) {
        const last = await (turn === initiator ? responder : initiator).receive(frame);
        out.rounds++;
        if (!last.done) throw new Error('the last frame did not end the other side');
      }
      break;
    }
    if (out.rounds > 10_000) throw new Error('no end in sight');
    turn = turn === initiator ? responder : initiator;
  }
  return out;
}
