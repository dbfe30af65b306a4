import { errorAnswer } from '../../shared/errors';
import { cozeForCreate } from '../_adapters/coze-clients';
import { coldStart } from '../_adapters/deps';
import { handleExtract } from './handler';

const deps = coldStart({ fn: 'extractText', coze: cozeForCreate });

export const main = async (event: unknown) => {
  const d = deps();
  // A bad setting is the log's business (it names the keys); the caller gets the generic answer.
  return d ? handleExtract(d, d.openid(), event) : errorAnswer('INTERNAL');
};
