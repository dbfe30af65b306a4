import { coldStart } from '../_lib/deps';
import { handleExtract } from './actions';

const deps = coldStart({ fn: 'extractText', coze: 'start' });

export const main = (event: unknown) => {
  const d = deps();
  return handleExtract(d, d.openid(), event);
};
