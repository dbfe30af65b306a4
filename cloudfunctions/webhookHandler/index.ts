import { coldStart } from '../_lib/deps';
import type { HttpEvent } from '../_lib/http';
import { handleCallback } from './handle';

const deps = coldStart({ fn: 'webhookHandler', coze: 'background' });

export const main = (event: HttpEvent) => handleCallback(deps(), event);
