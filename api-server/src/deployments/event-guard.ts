import { buildEventSchema, parseJsonWith, type BuildEvent } from '@platform/contracts';
import { verifyBuildEvent, type BusMessage } from '@platform/event-bus';
import type { Logger } from '@platform/logger';

/** Why an event off the build-events topic was dropped. */
export type RejectedEventReason = 'malformed' | 'unsigned' | 'bad_signature' | 'replayed';

/**
 * What the consumers of the build-events topic check before an event is applied or shown.
 * With `signingSecret` (BUILD_EVENTS_SIGNING_SECRET) every event must carry a valid
 * signature of its own deployment's key: an unsigned one, one signed for another deployment
 * or project, or one changed after signing is dropped. Without it events are taken unsigned
 * (a platform that has not turned signing on yet). `rejected` counts every drop.
 */
export interface EventGuard {
  signingSecret?: string;
  rejected?: (reason: RejectedEventReason) => void;
}

/** The events of a bus batch that parse and, with a signing secret, verify; the rest are dropped, logged and counted. */
export function parseBuildEvents(messages: readonly BusMessage[], log: Logger, guard: EventGuard = {}): BuildEvent[] {
  const events: BuildEvent[] = [];
  for (const message of messages) {
    const event = parseJsonWith(buildEventSchema, message.value);
    if (!event) {
      log.warn({ key: message.key }, 'dropping a malformed build event');
      guard.rejected?.('malformed');
      continue;
    }
    if (guard.signingSecret) {
      const verdict = verifyBuildEvent(event, guard.signingSecret);
      if (verdict !== 'valid') {
        // The ids are the event's claim, not a fact: logged as claimed, never the message.
        log.warn(
          { key: message.key, claimedDeploymentId: event.deploymentId, seq: event.seq, reason: verdict },
          'dropping a build event that fails its signature',
        );
        guard.rejected?.(verdict);
        continue;
      }
    }
    events.push(event);
  }
  return events;
}

/** Seqs of one deployment seen so far: everything up to `low`, and the few above it. */
class SeenSeqs {
  low = 0;
  readonly above = new Set<number>();
  has(seq: number): boolean {
    return seq <= this.low || this.above.has(seq);
  }
  add(seq: number): void {
    if (this.has(seq)) return;
    this.above.add(seq);
    while (this.above.delete(this.low + 1)) this.low++;
  }
}

/**
 * The writer's replay check: an event whose (deployment, seq) this writer already applied is
 * dropped and counted as `replayed` (a captured event sent again, or a duplicate). Seqs are
 * marked only once their batch is applied, so a batch redelivered after a failed apply is not
 * mistaken for a replay. In memory, for the most recent `maxDeployments`: after a restart an
 * old event can pass here again, and is then harmless, because ClickHouse dedupes on
 * (deployment, seq) and the deployment row ignores a status at or below its last seq.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, SeenSeqs>();

  constructor(
    private readonly rejected: (reason: RejectedEventReason) => void = () => {},
    private readonly maxDeployments = 10_000,
  ) {}

  /** The events not applied before (nor earlier in this batch). */
  fresh(events: readonly BuildEvent[], log: Logger): BuildEvent[] {
    const inBatch = new Set<string>();
    return events.filter((event) => {
      const id = `${event.deploymentId}\0${event.seq}`;
      if (inBatch.has(id) || this.seen.get(event.deploymentId)?.has(event.seq)) {
        log.warn({ claimedDeploymentId: event.deploymentId, seq: event.seq }, 'dropping a replayed build event');
        this.rejected('replayed');
        return false;
      }
      inBatch.add(id);
      return true;
    });
  }

  /** Marks a batch's events applied. */
  applied(events: readonly BuildEvent[]): void {
    for (const event of events) {
      let seqs = this.seen.get(event.deploymentId);
      if (seqs) this.seen.delete(event.deploymentId);
      else seqs = new SeenSeqs();
      // Re-inserted: the Map's order is then least recently used first.
      this.seen.set(event.deploymentId, seqs);
      seqs.add(event.seq);
    }
    while (this.seen.size > this.maxDeployments) this.seen.delete(this.seen.keys().next().value!);
  }
}
