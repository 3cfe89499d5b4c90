// One API call as the tests and benchmarks make it: a bearer token, a string body sent as YAML (workflow
// documents), anything else as JSON.
import type { Api } from '../src/api/app.js';

export async function apiRequest(
  app: Pick<Api, 'request'>,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (typeof body === 'string') {
    headers['content-type'] = 'application/yaml';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await app.request(path, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  return { status: response.status, text: await response.text() };
}
