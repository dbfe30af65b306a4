/**
 * The monitor service: invocations, database actions, function output and sends, as they happen; and
 * `GET /health`.
 */
import type { EmulatorService } from '../service';
import { Monitor } from './monitor';

export interface MonitorService extends EmulatorService {
  readonly name: 'monitor';
  readonly monitor: Monitor;
  /** Calls to /admin so far (database, openapi), e.g. to prove a refusal read nothing. */
  adminRequests: number;
}

export function createMonitor(): MonitorService {
  return {
    name: 'monitor',
    monitor: new Monitor(),
    adminRequests: 0,
    routes: () => [{ path: '/health', handle: (c) => c.json(200, { ok: true }) }],
  };
}
