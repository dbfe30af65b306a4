import { buildDeps } from '../_lib/deps';
import { handleExtract } from './actions';

// Built at cold start: a missing or malformed variable fails here, naming it.
const deps = buildDeps({ fn: 'extractText', coze: 'start' });

export const main = (event: unknown) => handleExtract(deps, deps.openid(), event);
