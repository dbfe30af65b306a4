import { cozeForSweep } from '../_adapters/coze-clients';
import { callerContext } from '../_adapters/cloud';
import { coldStart } from '../_adapters/deps';
import { createLogger } from '../_adapters/log';
import { SWEEP_TRIGGER, TIMER_ONLY_ANSWER, timerRefusal } from './timer';
import { sweep } from './handler';

const deps = coldStart({ fn: 'taskSweeper', coze: cozeForSweep });
const log = createLogger('taskSweeper');

// Only the timer sweeps: a sweep reads Coze's run history, whose rate limit real users' starts share.
export const main = async (event: unknown) => {
  const refused = timerRefusal(event, callerContext(), SWEEP_TRIGGER);
  if (refused) {
    log.warn('sweep_refused', { reason: refused });
    return TIMER_ONLY_ANSWER;
  }
  const d = deps();
  if (!d) throw new Error('taskSweeper is not configured');
  return sweep(d);
};
