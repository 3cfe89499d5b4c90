// Generic webhook: POSTs a JSON event, signed with HMAC-SHA256 of the exact body when a secret is set,
// so the receiver can check it came from us (`X-Signoff-Signature: sha256=<hex>`).
import { createHmac } from 'node:crypto';
import { type Fetch, request, statusError } from '../http.js';

export interface WebhookDelivery {
  url: string;
  secret?: string | undefined;
  headers?: Record<string, string> | undefined;
  event: string;
  /** Stable per message: receivers can drop a redelivery after a crash or a retry. */
  deliveryId: string;
  payload: unknown;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function sendWebhook(fetchImpl: Fetch, delivery: WebhookDelivery): Promise<{ status: number }> {
  const body = JSON.stringify(delivery.payload);
  const target = `The webhook at ${redactUrl(delivery.url)}`;
  const response = await request(fetchImpl, {
    vendor: 'webhook',
    url: delivery.url,
    method: 'POST',
    target,
    body,
    headers: {
      ...delivery.headers,
      'content-type': 'application/json',
      'user-agent': 'Signoff',
      'x-signoff-event': delivery.event,
      'x-signoff-delivery': delivery.deliveryId,
      ...(delivery.secret ? { 'x-signoff-signature': signBody(delivery.secret, body) } : {}),
    },
  });
  if (response.status >= 200 && response.status < 300) return { status: response.status };
  throw statusError(target, response.status, response.text, response.headers.get('retry-after'));
}

/** Keeps scheme, host and path; drops credentials and the query (where webhook keys usually live). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
