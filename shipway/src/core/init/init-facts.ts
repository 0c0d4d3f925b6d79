/**
 * What `shipway init` knows about a service repository: what it read (the snapshot) and what it
 * concluded (the facts). Both are plain data, so detection and rendering are pure functions.
 */

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

/** What the app layer reads from the repository, bounded and without following symlinks. */
export interface RepositorySnapshot {
  /** package.json's text; undefined when there is none. */
  readonly packageJson: string | undefined;
  /** The top-level entries of the repository. */
  readonly entries: readonly { readonly name: string; readonly kind: EntryKind }[];
  /** Source files to look for the port and health routes in (relative paths, text). */
  readonly sources: readonly { readonly path: string; readonly text: string }[];
  /** tsconfig.json's text, if any (for compilerOptions.outDir). */
  readonly tsconfig: string | undefined;
  /** .nvmrc or .node-version, if any. */
  readonly nodeVersionFile: string | undefined;
  /** `git remote get-url origin`, if the repository has one. */
  readonly remoteUrl: string | undefined;
  /** The repository directory's name, the fallback for the app name. */
  readonly directoryName: string;
}

export interface Detected<T> {
  readonly value: T;
  /** Where it came from, for people: "package.json scripts.start", "src/server.ts: PORT ?? 3000". */
  readonly source: string;
}

export interface ProjectFacts {
  readonly app: Detected<string>;
  readonly packageName: string;
  /** How the service starts: `node <entry> [args]`. */
  readonly start: Detected<{ readonly entry: string; readonly args: readonly string[] }>;
  /** package.json's main, which `shipway image build` starts (`node <main>`). */
  readonly main: string | undefined;
  readonly build: Detected<string> | null;
  /** A test script other than npm's placeholder. */
  readonly test: boolean;
  readonly port: Detected<number> | null;
  readonly health: Detected<{ readonly liveness: string; readonly readiness: string }>;
  readonly lockfile: boolean;
  /** Where the image's app comes from: the build's output directory, or "." (no build step). */
  readonly output: string;
  readonly inputs: readonly string[];
  readonly nodeVersion: Detected<string>;
  /** The remote URL for Argo CD, without credentials; null when there is no remote. */
  readonly repoUrl: string | null;
  /** The origin URL carried a user and password or token, which init leaves out of every file. */
  readonly remoteHadCredentials: boolean;
  /** The GitLab project path the remote names (group/…/project), if it is an HTTP(S) or SSH URL. */
  readonly projectPath: string | null;
}

/** What the person running init chose (flags, or answers on a terminal). */
export interface InitChoices {
  readonly app?: string | undefined;
  readonly port?: number | undefined;
  readonly namespacePrefix?: string | undefined;
  /** The component's GitLab project path (default: <the remote's group>/shipway). */
  readonly componentProject?: string | undefined;
  readonly repoUrl?: string | undefined;
  readonly canary: boolean;
  readonly dockerfile: boolean;
}

/** The facts and choices every file is rendered from, with nothing left undecided. */
export interface InitSettings {
  readonly app: string;
  readonly namespacePrefix: string;
  readonly port: number;
  readonly liveness: string;
  readonly readiness: string;
  readonly entry: string;
  readonly args: readonly string[];
  readonly build: boolean;
  readonly test: boolean;
  readonly output: string;
  readonly inputs: readonly string[];
  readonly nodeVersion: string;
  readonly repoUrl: string;
  readonly componentProject: string;
  readonly version: string;
  readonly canary: boolean;
  readonly dockerfile: boolean;
}

export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}
