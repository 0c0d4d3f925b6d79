/** What every use-case receives instead of reaching for process globals. */
export interface AppContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Progress for people, written to stderr by the CLI. */
  readonly progress: (message: string) => void;
}
