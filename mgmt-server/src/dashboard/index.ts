import type { ListenAddress, Logger } from '@kuberelay/shared';
import { startDashboardServer } from './dashboardServer.js';
import { DashboardState, type DashboardStateOptions } from './dashboardState.js';

export { DASHBOARD_ASSET_DIR, MAX_EVENT_STREAMS } from './dashboardServer.js';

export interface DashboardOptions extends Omit<DashboardStateOptions, 'minNotifyIntervalMs'> {
  readonly listen: ListenAddress;
  readonly logger: Logger;
}

/** The running dashboard, as the composition root sees it. */
export interface Dashboard {
  readonly port: number;
  /** To be called on every stream event, desired state and informer change. */
  readonly changed: () => void;
  stop(): Promise<void>;
}

/** Starts the dashboard's state and HTTP server (startMgmtServer calls it only when enabled). */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const state = new DashboardState(options);
  const server = await startDashboardServer({
    host: options.listen.host,
    port: options.listen.port,
    state,
    logger: options.logger,
  });
  return { port: server.port, changed: () => state.changed(), stop: () => server.stop() };
}
