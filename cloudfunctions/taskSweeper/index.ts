import { coldStart } from '../_lib/deps';
import { sweep } from './sweep';

const deps = coldStart({ fn: 'taskSweeper', coze: 'background' });

export const main = () => sweep(deps());
