import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServer {
  readonly realm: string;
  readonly issued: { scope: string[]; user: string }[];
  close(): Promise<void>;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signToken(secret: string, claims: Record<string, unknown>): string {
  const head = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/**
 * A token service as in distribution's token auth spec: Basic credentials in, a short-lived
 * HS256 JWT granting the requested repository scopes out.
 */
export async function startTokenServer(options: {
  secret: string;
  service: string;
  user: string;
  password: string;
}): Promise<TokenServer> {
  const issued: TokenServer['issued'] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token');
    const [user, password] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (user !== options.user || password !== options.password) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    issued.push({ scope: scopes, user });
    const access = scopes.map((scope) => {
      const [type = '', name = '', actions = ''] = scope.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const token = signToken(options.secret, { aud: options.service, exp: Math.floor(Date.now() / 1000) + 300, access });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issued,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
