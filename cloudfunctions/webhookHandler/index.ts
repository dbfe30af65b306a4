import { coldStart } from '../_adapters/deps';
import { unavailable, type HttpEvent } from '../_adapters/http';
import { handleCallback } from './handler';

const deps = coldStart({ fn: 'webhookHandler' });

export const main = async (event: HttpEvent) => {
  const d = deps();
  // 503, not the configuration error: the sender retries later and learns nothing about us.
  return d ? handleCallback(d, event) : unavailable();
};
