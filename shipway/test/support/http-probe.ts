import { request } from 'node:http';

export interface ProbeAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP request with full control of the headers (Host included), as an attacker would send it. */
export function probe(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, timeout: options.timeoutMs ?? 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Signs in through /auth with a token; returns the session cookie and the CSRF token. */
export async function signIn(base: string, token: string): Promise<{ cookie: string; csrf: string }> {
  const auth = await probe(`${base}auth?token=${encodeURIComponent(token)}`);
  if (auth.status !== 303) throw new Error(`sign-in failed: ${auth.status} ${auth.body}`);
  const cookie = String(auth.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  const session = await probe(`${base}api/session`, { headers: { cookie } });
  return { cookie, csrf: session.json<{ csrf: string }>().csrf };
}

/** A same-origin POST from the dashboard's own page: cookie, CSRF header, Origin. */
export function postAction(base: string, path: string, body: unknown, auth: { cookie: string; csrf: string }) {
  return probe(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: auth.cookie,
      'x-csrf-token': auth.csrf,
      origin: base.replace(/\/$/, ''),
    },
    body: JSON.stringify(body),
  });
}
