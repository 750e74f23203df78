import { type ListenAddress, type Logger, objectKey } from '@kuberelay/shared';
import type { EventToRecord } from '../status/outcomeEvents.js';
import type { StreamEvent } from '../stream/streamEvents.js';
import { startDashboardServer } from './dashboardServer.js';
import { DashboardState, type DashboardStateOptions } from './dashboardState.js';
import { type RecentEvent, RecentLog, type RejectedAttempt } from './recentActivity.js';

export { DASHBOARD_ASSET_DIR, MAX_EVENT_STREAMS } from './dashboardServer.js';

export interface DashboardOptions extends Omit<DashboardStateOptions, 'minNotifyIntervalMs' | 'recent'> {
  readonly listen: ListenAddress;
  readonly logger: Logger;
}

/** The running dashboard, as the composition root sees it. */
export interface Dashboard {
  readonly port: number;
  /** A desired state was published or an informer changed. */
  readonly changed: () => void;
  /** Every event of every agent stream (refused ones are kept for the cluster's page). */
  readonly observe: (event: StreamEvent) => void;
  /** An Event was recorded on a source (kept for the source's page). */
  readonly eventRecorded: (event: EventToRecord) => void;
  stop(): Promise<void>;
}

/** Starts the dashboard's state and HTTP server (startMgmtServer calls it only when enabled). */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const recent = { events: new RecentLog<RecentEvent>(), rejected: new RecentLog<RejectedAttempt>() };
  const state = new DashboardState({ ...options, recent });
  const server = await startDashboardServer({
    host: options.listen.host,
    port: options.listen.port,
    state,
    logger: options.logger,
  });
  const at = () => new Date(options.clock.now()).toISOString();
  return {
    port: server.port,
    changed: () => state.changed(),
    observe: (event) => {
      if (event.type === 'rejected' && event.claimedCluster !== undefined) {
        const { reason, code, peer } = event;
        recent.rejected.add(event.claimedCluster, { at: at(), reason, code, peer });
      }
      // A heartbeat can also carry a new replica count: shown with the next notification, <= 5 s.
      state.changed(event.type === 'heartbeat' ? 'heartbeat' : 'data');
    },
    eventRecorded: (event) => {
      recent.events.add(objectKey(event.source), { at: at(), reason: event.reason, message: event.message });
      state.changed();
    },
    stop: () => server.stop(),
  };
}
