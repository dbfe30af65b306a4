/** A signed callback posted to a local stack's webhook, as the Coze workflow's last node posts it. */
import { signedHeaders } from '../../shared/signing';

let seq = 0;

export function postSignedCallback(
  stack: { url: string; env: Record<string, string | undefined> },
  body: object,
): Promise<Response> {
  const raw = JSON.stringify(body);
  const id = `msg_test_${++seq}`;
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${stack.url}/webhook/coze`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(stack.env.WEBHOOK_SECRET!, id, ts, raw),
    },
    body: raw,
  });
}
