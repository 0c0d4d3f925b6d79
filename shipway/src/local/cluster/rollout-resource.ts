import type { IncomingMessage, ServerResponse } from 'node:http';
import { failure, MAX_BODY_BYTES, readLimitedBody, sendJson } from './api-request.js';
import type { KubeObject, ObjectStore, StoreEvent } from './object-store.js';
import { isObject, mergePatchRollout } from './rollout-patch.js';

export interface PatchRecord {
  readonly target: 'status' | 'main';
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

/** What tests and the embedded cluster see of, and change in, the API's answers. */
export interface ApiHooks {
  /** Return false to answer 403, as RBAC would. */
  authorize?(verb: string, resource: string, namespace: string): boolean;
  /** Sees every PATCH and the status it got. */
  onPatch?(record: PatchRecord): void;
  /** Runs before a PATCH is applied (tests move the object under the client here). */
  beforePatch?(): void;
}

export interface RolloutRequest {
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The status subresource. */
  readonly status: boolean;
}

/**
 * The Rollout resource of the API (argoproj.io/v1alpha1 rollouts): list, watch, get, and
 * merge-patch of the object and its status subresource with resourceVersion preconditions.
 */
export class RolloutResource {
  private readonly watches = new Set<ServerResponse>();

  constructor(
    private readonly store: ObjectStore,
    private readonly hooks: ApiHooks,
  ) {}

  /** Ends every open watch, so the server can close. */
  endWatches(): void {
    for (const response of this.watches) response.end();
  }

  serve(request: IncomingMessage, response: ServerResponse, url: URL, target: RolloutRequest): Promise<void> | void {
    const { namespace, name } = target;
    const verb =
      request.method === 'PATCH'
        ? 'patch'
        : url.searchParams.get('watch') === 'true'
          ? 'watch'
          : name === undefined
            ? 'list'
            : 'get';
    const resource = target.status ? 'rollouts/status' : 'rollouts';
    if (this.hooks.authorize?.(verb, resource, namespace ?? '') === false) {
      request.resume();
      return sendJson(
        response,
        403,
        failure(
          403,
          'Forbidden',
          `${resource} "${name ?? ''}" is forbidden: cannot ${verb} resource "${resource}" in namespace "${namespace ?? ''}"`,
        ),
      );
    }
    if (verb === 'watch')
      return this.watch(
        request,
        response,
        namespace,
        url.searchParams.get('fieldSelector')?.replace(/^metadata\.name=/, ''),
      );
    if (verb === 'list') {
      return sendJson(response, 200, {
        kind: 'RolloutList',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { resourceVersion: this.store.resourceVersion },
        items: this.store.list('Rollout', namespace),
      });
    }
    if (verb === 'get') {
      const object = this.store.get('Rollout', namespace ?? '', name ?? '');
      return object === undefined
        ? sendJson(response, 404, failure(404, 'NotFound', `rollouts.argoproj.io "${name}" not found`))
        : sendJson(response, 200, object);
    }
    return this.patch(request, response, namespace ?? '', name ?? '', target.status ? 'status' : 'main');
  }

  private watch(
    request: IncomingMessage,
    response: ServerResponse,
    namespace: string | undefined,
    name: string | undefined,
  ): void {
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const matches = (object: KubeObject) =>
      object.kind === 'Rollout' &&
      (namespace === undefined || object.metadata.namespace === namespace) &&
      (name === undefined || object.metadata.name === name);
    const listener = (event: StoreEvent) => {
      if (matches(event.object)) response.write(`${JSON.stringify(event)}\n`);
    };
    for (const object of this.store.list('Rollout', namespace))
      if (matches(object)) response.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
    this.store.on('change', listener);
    this.watches.add(response);
    const stop = () => {
      this.store.off('change', listener);
      this.watches.delete(response);
    };
    request.on('close', stop);
    response.on('close', stop);
  }

  private async patch(
    request: IncomingMessage,
    response: ServerResponse,
    namespace: string,
    name: string,
    target: 'status' | 'main',
  ): Promise<void> {
    const bytes = await readLimitedBody(request, MAX_BODY_BYTES);
    const contentType = String(request.headers['content-type'] ?? '');
    const answer = (status: number, body: unknown, patchBody: unknown = {}) => {
      this.hooks.onPatch?.({ target, contentType, body: isObject(patchBody) ? patchBody : {}, status });
      sendJson(response, status, body, status === 413);
    };
    if (bytes === 'aborted') return void response.destroy();
    if (bytes === 'too-large')
      return answer(413, failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`));
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString());
    } catch {
      return answer(400, failure(400, 'BadRequest', 'error decoding patch: the patch is not JSON'));
    }
    this.hooks.beforePatch?.();
    const outcome = mergePatchRollout(this.store, { namespace, name, target, contentType, body });
    answer(outcome.status, outcome.body, body);
  }
}
