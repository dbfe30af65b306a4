import { buildDeps } from '../_lib/deps';
import { sweep } from './sweep';

// Built at cold start: a missing or malformed variable fails here, naming it.
const deps = buildDeps({ fn: 'taskSweeper', coze: 'background' });

export const main = () => sweep(deps);
