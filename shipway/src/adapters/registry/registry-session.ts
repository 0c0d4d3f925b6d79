import type { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import { ExternalError } from '../../core/errors.js';
import { describeRegistryError } from '../../core/oci/registry-error-body.js';
import { parseChallenge } from '../../core/oci/www-authenticate.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export interface SendOptions {
  /** The token scope the request needs (`repository:<name>:<actions>`); '' for none. */
  readonly scope: string;
  readonly headers?: Record<string, string>;
  readonly body?: Readable | Buffer;
}

function isLoopback(host: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
}

/**
 * The HTTP side of talking to one registry: it authenticates as the registry asks (Basic, or
 * Bearer tokens fetched from the realm in the `WWW-Authenticate` challenge, one per repository
 * scope), follows storage redirects without forwarding credentials to another host, and turns
 * failures into ExternalErrors that say what was being done.
 */
export class RegistrySession {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    readonly registry: string,
    private readonly options: { readonly credentials?: RegistryCredentials | undefined; readonly insecure?: boolean },
  ) {
    this.base = `${(options.insecure ?? isLoopback(registry)) ? 'http' : 'https'}://${registry}`;
  }

  /** The upload location a response names (spec.md, "Pushing blobs"). */
  location(response: Dispatcher.ResponseData, repo: string): string {
    const location = response.headers.location;
    if (typeof location !== 'string')
      throw new ExternalError('REGISTRY_PROTOCOL', `registry ${this.registry} sent no upload location for ${repo}`);
    return location;
  }

  /** Throws, naming `what`, unless the response has one of the `ok` statuses. */
  async expect(response: Dispatcher.ResponseData, ok: readonly number[], what: string): Promise<void> {
    if (ok.includes(response.statusCode)) return;
    const text = await response.body.text().catch(() => '');
    const detail = describeRegistryError(text);
    const auth = response.statusCode === 401 || response.statusCode === 403;
    throw new ExternalError(
      auth ? 'REGISTRY_AUTH' : 'REGISTRY_ERROR',
      `${what} on ${this.registry} failed: HTTP ${response.statusCode}${detail ? ` ${detail}` : ''}`,
      {
        hint: auth
          ? 'check the registry credentials: SHIPWAY_REGISTRY_USERNAME/PASSWORD, a docker config.json, or AWS credentials for ECR'
          : undefined,
      },
    );
  }

  async send(method: Method, path: string, options: SendOptions, redirects = 0): Promise<Dispatcher.ResponseData> {
    const url = new URL(path, this.base);
    const sameHost = url.host === new URL(this.base).host;
    const headers: Record<string, string> = { ...options.headers };
    const authorization = sameHost ? this.authorization(options.scope) : undefined;
    if (authorization !== undefined) headers.authorization = authorization;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) });
    } catch (error) {
      throw new ExternalError(
        'REGISTRY_UNREACHABLE',
        `cannot reach registry ${this.registry}: ${(error as { code?: string }).code ?? String(error)}`,
        {
          cause: error,
          hint: 'check that the registry is running and the address is right',
        },
      );
    }
    if (
      [301, 302, 303, 307, 308].includes(response.statusCode) &&
      (method === 'GET' || method === 'HEAD') &&
      redirects < 5
    ) {
      await response.body.dump();
      // Follows storage redirects (S3, CDN); credentials go only to the registry's own host.
      return this.send(
        method,
        String(response.headers.location),
        { ...options, scope: sameHost ? options.scope : '' },
        redirects + 1,
      );
    }
    if (
      response.statusCode !== 401 ||
      !sameHost ||
      authorization?.startsWith('Bearer ') === true ||
      (this.basic && authorization !== undefined)
    ) {
      return response;
    }
    const challenge = parseChallenge(String(response.headers['www-authenticate'] ?? '') || null);
    await response.body.dump();
    if (challenge?.scheme === 'bearer') await this.fetchToken(challenge.params, options.scope);
    else if (challenge?.scheme === 'basic' && this.options.credentials !== undefined) this.basic = true;
    else return response;
    if (options.body !== undefined && !Buffer.isBuffer(options.body)) {
      throw new ExternalError(
        'REGISTRY_AUTH',
        `registry ${this.registry} asked for authentication in the middle of an upload`,
      );
    }
    return this.send(method, path, options, redirects);
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token !== undefined) return `Bearer ${token}`;
    const credentials = this.options.credentials;
    if (this.basic && credentials !== undefined) {
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Token authentication (distribution docs/spec/auth/token.md): GET realm?service=…&scope=…. */
  private async fetchToken(params: Readonly<Record<string, string>>, scope: string): Promise<void> {
    const realm = params.realm;
    if (realm === undefined)
      throw new ExternalError('REGISTRY_PROTOCOL', `registry ${this.registry} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (params.service !== undefined) url.searchParams.set('service', params.service);
    for (const part of (params.scope ?? scope).split(' ').filter((entry) => entry !== ''))
      url.searchParams.append('scope', part);
    const credentials = this.options.credentials;
    const headers: Record<string, string> =
      credentials === undefined
        ? {}
        : {
            authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
          };
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method: 'GET', headers });
    } catch (error) {
      throw new ExternalError('REGISTRY_UNREACHABLE', `cannot reach the token service ${url.origin}`, { cause: error });
    }
    await this.expect(response, [200], `get a token for ${scope || 'the registry'} from ${url.origin}`);
    const body = (await response.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token === undefined)
      throw new ExternalError('REGISTRY_PROTOCOL', `the token service ${url.origin} sent no token`);
    this.tokens.set(scope, token);
  }
}
