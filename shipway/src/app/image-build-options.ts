/** What `shipway image build` is asked for and what it answers, with or without a Dockerfile. */
export interface ImageBuildOptions {
  readonly base?: string | undefined;
  readonly tag?: string | undefined;
  readonly push?: boolean;
  readonly dotenv?: string | undefined;
  readonly configFile?: string | undefined;
  /** Use build.output as it is (the build job's artifacts) instead of running `npm run build`. */
  readonly prebuilt?: boolean | undefined;
}

export interface ImageBuildResult {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly ref: string;
  readonly layout: string;
  readonly push: 'pushed' | 'already-published' | 'not-pushed';
  readonly layers: readonly {
    readonly digest: string;
    readonly size: number;
    readonly createdBy: string;
    readonly cached?: boolean;
  }[];
}
