import type { Clock, KubeObject, Logger, ObjectRef } from '@kuberelay/shared';
import type { EventRecorder } from './eventRecorder.js';
import type { EventToRecord, OutcomeEvents } from './outcomeEvents.js';

/** Events are recorded in batches, so outcomes arriving from many clusters at once group. */
export const EVENT_BATCH_MS = 1_000;

export interface EventBatchesOptions {
  readonly outcomes: OutcomeEvents;
  readonly recorder: EventRecorder;
  /** The live source an outcome is about (an Event needs its uid); undefined when it is gone. */
  readonly findSource: (ref: ObjectRef) => KubeObject | undefined;
  /** Called for each Event that was recorded (not for those that failed). */
  readonly onRecorded?: (event: EventToRecord) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Records the outcome Events (docs/spec.md D8.2, D8.3) at most once per EVENT_BATCH_MS: `schedule`
 * after anything that may have changed an outcome, and the changes of that second are recorded
 * together, one at a time. A failed record is logged; the outcome is recorded again if it recurs.
 */
export function eventBatches(options: EventBatchesOptions): { readonly schedule: () => void } {
  const { outcomes, recorder, clock, logger, signal } = options;
  let scheduled = false;
  const schedule = () => {
    if (scheduled || signal.aborted) return;
    scheduled = true;
    clock.sleep(EVENT_BATCH_MS, signal).then(
      async () => {
        scheduled = false;
        for (const event of outcomes.flush()) {
          const object = options.findSource(event.source);
          if (object === undefined) continue;
          await recorder.record({ object, reason: event.reason, message: event.message }).then(
            () => options.onRecorded?.(event),
            (error: unknown) =>
              logger.warn({ err: error, reason: event.reason }, 'recording an Event failed'),
          );
        }
      },
      () => {},
    );
  };
  return { schedule };
}
