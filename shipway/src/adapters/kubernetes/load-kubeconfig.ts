import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../core/errors.js';
import { stackPaths } from '../../core/stack/stack-paths.js';

export interface KubeconfigRequest {
  readonly file?: string | undefined;
  readonly context?: string | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface LoadedKubeconfig {
  readonly config: KubeConfig;
  /** Where it came from, for messages; never its content. */
  readonly source: string;
}

/**
 * The local stack's cluster writes its kubeconfig in the per-user state dir
 * (SHIPWAY_HOME/cluster/kubeconfig, core/stack/stack-paths.ts), whichever checkout started it.
 */
export function embeddedKubeconfig(env: KubeconfigRequest['env']): string {
  return stackPaths(env, env.HOME || homedir()).kubeconfig;
}

function fromText(text: string, source: string): LoadedKubeconfig {
  const config = new KubeConfig();
  try {
    config.loadFromString(text);
  } catch (error) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `the kubeconfig from ${source} is not valid: ${error instanceof Error ? error.message.split('\n')[0] : 'unreadable'}`,
      { cause: error, hint: 'check the file, or the KUBECONFIG / KUBE_CONFIG variable' },
    );
  }
  if (config.getCurrentCluster() === null) {
    throw new ConfigError('CONFIG_INVALID', `the kubeconfig from ${source} has no current context with a cluster`, {
      hint: 'set current-context, or pass --context',
    });
  }
  return { config, source };
}

function fromFile(path: string, source: string): LoadedKubeconfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `cannot read the kubeconfig ${path} (${source})`, {
      cause: error,
      hint: 'check the path and its permissions',
    });
  }
  return fromText(text, source);
}

/**
 * Kubeconfig sources, in order: --kubeconfig; KUBECONFIG (a file path, as a GitLab file-type
 * variable gives it); KUBE_CONFIG holding base64 (the original pipeline's variable); the local
 * stack's embedded cluster (SHIPWAY_HOME); the in-cluster service account.
 */
export function loadKubeconfig(request: KubeconfigRequest): LoadedKubeconfig {
  const { env } = request;
  let loaded: LoadedKubeconfig;
  // Relative paths are the command's working directory's, absolute ones are taken as they are.
  if (request.file !== undefined) loaded = fromFile(resolve(request.cwd, request.file), '--kubeconfig');
  else if (env.KUBECONFIG) loaded = fromFile(resolve(request.cwd, env.KUBECONFIG.split(':')[0] ?? ''), 'KUBECONFIG');
  else if (env.KUBE_CONFIG)
    loaded = fromText(Buffer.from(env.KUBE_CONFIG, 'base64').toString('utf8'), 'KUBE_CONFIG (base64)');
  else if (existsSync(embeddedKubeconfig(env)))
    loaded = fromFile(embeddedKubeconfig(env), "the local stack's embedded cluster");
  else if (env.KUBERNETES_SERVICE_HOST) {
    const config = new KubeConfig();
    config.loadFromCluster();
    loaded = { config, source: 'the in-cluster service account' };
  } else {
    throw new ConfigError(
      'CONFIG_INVALID',
      'no kubeconfig: none of --kubeconfig, KUBECONFIG, KUBE_CONFIG, the embedded cluster or an in-cluster service account',
      {
        hint: `pass --kubeconfig <file>, or start the local stack (\`shipway run\` or \`shipway cluster up\`; its kubeconfig: ${embeddedKubeconfig(env)})`,
      },
    );
  }
  if (request.context !== undefined) {
    if (loaded.config.getContextObject(request.context) === null) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `context ${JSON.stringify(request.context)} is not in the kubeconfig from ${loaded.source}`,
        {
          hint: `contexts there: ${loaded.config
            .getContexts()
            .map((context) => context.name)
            .join(', ')}`,
        },
      );
    }
    loaded.config.setCurrentContext(request.context);
  }
  return loaded;
}
