// Requests to our own public URL (sandbox fakes, our callback URLs) are served in-process: the sandbox
// works behind any proxy or port, and costs no socket. Everything else goes to the network.
import type { Fetch } from '../providers/http.js';

export interface LocalApp {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

export function localFetch(publicUrl: string, app: () => LocalApp, network: Fetch): Fetch {
  const prefix = publicUrl.replace(/\/$/, '');
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(`${prefix}/`)) return network(input, init);
    const request = input instanceof Request ? input : undefined;
    return Promise.resolve(
      app().request(url.slice(prefix.length), {
        method: init?.method ?? request?.method ?? 'GET',
        ...(init?.headers ? { headers: init.headers } : request ? { headers: request.headers } : {}),
        ...(init?.body !== undefined ? { body: init.body } : {}),
        ...(init?.signal ? { signal: init.signal } : {}),
      }),
    );
  };
}
