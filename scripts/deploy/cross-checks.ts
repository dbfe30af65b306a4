/** Cross-checks between the functions' configuration and cloudbaserc.json. */
import { SWEEP_TAIL_MS, type Config } from '../../shared/config';
import { ROUTE, TIMER_FN } from './facts';
import { err, warn, type Issue } from './issues';
import type { DeployKeys } from './keys';
import type { Rc } from './rc';

export function defaultServiceUrl(envId: string, route: string): string {
  // What `tcb fn deploy` prints for a function with a path (the console shows the real domain).
  return `https://${envId}.service.tcloudbase.com${route}`;
}

/**
 * The rules between the settings and cloudbaserc.json. Each runs when the settings it reads are
 * valid (`values` holds only valid ones), so every problem shows in the same pass.
 */
export function checkProject(
  rc: Rc,
  values: Partial<Config>,
  deploy: DeployKeys | undefined,
): Issue[] {
  const issues: Issue[] = [];
  const route = rc.functions.find((f) => f.name === ROUTE.fn)?.path;
  const url = values.WEBHOOK_URL !== undefined ? new URL(values.WEBHOOK_URL) : undefined;
  if (url && url.protocol !== 'https:') {
    issues.push(
      err('WEBHOOK_URL must be https: the callback carries results and a signature', 'WEBHOOK_URL'),
    );
  }
  if (url && route && url.pathname.replace(/\/$/, '') !== route) {
    issues.push(err(`WEBHOOK_URL must end with the route path ${route}`, 'WEBHOOK_URL'));
  }
  if (
    url &&
    deploy &&
    route &&
    url.host !== new URL(defaultServiceUrl(deploy.ENV_ID, route)).host
  ) {
    issues.push(
      warn(
        `WEBHOOK_URL's host is not ${deploy.ENV_ID}.service.tcloudbase.com: fine for a custom or console-shown domain, check it`,
        'WEBHOOK_URL',
      ),
    );
  }
  const sweeper = rc.functions.find((f) => f.name === TIMER_FN);
  const { SWEEP_BUDGET_MS, COZE_TIMEOUT_MS, COZE_START_TIMEOUT_MS } = values;
  if (sweeper && SWEEP_BUDGET_MS !== undefined && COZE_TIMEOUT_MS !== undefined) {
    // A sweep stops calling Coze at its budget; a call already started takes up to COZE_TIMEOUT_MS.
    const worst = SWEEP_BUDGET_MS + COZE_TIMEOUT_MS + SWEEP_TAIL_MS;
    if (worst > sweeper.timeout * 1000) {
      issues.push(
        err(
          `SWEEP_BUDGET_MS + COZE_TIMEOUT_MS + ${SWEEP_TAIL_MS} ms (${worst} ms) must stay within ${TIMER_FN}'s timeout (${sweeper.timeout} s)`,
          'SWEEP_BUDGET_MS',
        ),
      );
    }
  }
  const starter = rc.functions.find((f) => f.name === 'extractText');
  // `create` bounds its Coze call at COZE_START_TIMEOUT_MS (+100) and still writes the task.
  if (
    starter &&
    COZE_START_TIMEOUT_MS !== undefined &&
    COZE_START_TIMEOUT_MS + 2000 > starter.timeout * 1000
  ) {
    issues.push(
      err(
        `COZE_START_TIMEOUT_MS + 2 s of database work must fit extractText's timeout (${starter.timeout} s)`,
        'COZE_START_TIMEOUT_MS',
      ),
    );
  }
  const { TASK_TIMEOUT_S, RECONCILE_AFTER_S } = values;
  if (
    TASK_TIMEOUT_S !== undefined &&
    RECONCILE_AFTER_S !== undefined &&
    TASK_TIMEOUT_S <= RECONCILE_AFTER_S
  ) {
    issues.push(
      warn(
        'TASK_TIMEOUT_S is not above RECONCILE_AFTER_S: tasks time out before any reconcile',
        'TASK_TIMEOUT_S',
      ),
    );
  }
  return issues;
}
