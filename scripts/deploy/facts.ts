/**
 * What the design and the platform fix, in one place: the files, the route and the timer, the
 * runtimes and regions CloudBase offers, the tcb version whose behaviour the checks were read from.
 */
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const RC_FILE = 'cloudbaserc.json';
export const DIST_FUNCTIONS = 'dist/functions';
export const TCB_CLI_VERSION = '2.12.10';

/** What the design fixes: the webhook route and the timer function. */
export const ROUTE = { fn: 'webhookHandler', path: '/webhook/coze' } as const;
export const TIMER_FN = 'taskSweeper';

/** Runtimes CloudBase offers for Node; 22 and 24 are beta. */
export const SUPPORTED_RUNTIMES = ['Nodejs16.13', 'Nodejs18.15', 'Nodejs20.19'] as const;
export const BETA_RUNTIME = /^Nodejs2[24](\.\d+)?$/;

export const TCB_REGIONS = ['ap-shanghai', 'ap-beijing', 'ap-guangzhou', 'ap-singapore'] as const;
