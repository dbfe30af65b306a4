import { buildDeps } from '../_lib/deps';
import type { HttpEvent } from '../_lib/http';
import { handleCallback } from './handle';

// Built at cold start: a missing or malformed variable fails here, naming it.
const deps = buildDeps({ fn: 'webhookHandler', coze: 'background' });

export const main = (event: HttpEvent) => handleCallback(deps, event);
