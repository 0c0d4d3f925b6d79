import { parseShipwayConfig } from '../config/shipway-config.js';
import type { GeneratedFile, InitSettings } from './init-facts.js';
import { renderBase } from './render-base.js';
import { renderOverlays } from './render-overlays.js';
import { renderServiceFiles } from './render-service-files.js';

/** What is at a path now. `link` means the path or one of its parent directories is a symlink. */
export type ExistingState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'file'; readonly content: string }
  | { readonly kind: 'link'; readonly at: string }
  | { readonly kind: 'not-a-file' };

/**
 * create: not there; unchanged: already exactly this; overwrite: different, and --force given;
 * conflict: different, no --force; blocked: a symlink on the way or a directory in the place
 * (never written, even with --force).
 */
export type FileAction = 'create' | 'unchanged' | 'overwrite' | 'conflict' | 'blocked';

export interface PlannedFile extends GeneratedFile {
  readonly action: FileAction;
  readonly reason?: string;
}

export interface InitPlan {
  readonly files: readonly PlannedFile[];
  /** Commands to run in the repository, in order (argv). */
  readonly commands: readonly (readonly string[])[];
  /** True when nothing would change. */
  readonly upToDate: boolean;
  /** True when the plan may be applied: no conflict and nothing blocked. */
  readonly applicable: boolean;
}

/** Every file init writes for these settings, in a stable order. */
export function renderInitFiles(settings: InitSettings): GeneratedFile[] {
  const files = [...renderServiceFiles(settings), ...renderBase(settings), ...renderOverlays(settings)];
  // The generated shipway.yaml must pass the same parser every command uses; a failure here is a
  // bug in init, not in the user's repository.
  const config = files.find((file) => file.path === 'shipway.yaml');
  if (config !== undefined) parseShipwayConfig(config.content);
  return files;
}

function actionFor(file: GeneratedFile, state: ExistingState, force: boolean): PlannedFile {
  switch (state.kind) {
    case 'missing':
      return { ...file, action: 'create' };
    case 'file':
      if (state.content === file.content) return { ...file, action: 'unchanged' };
      return force ? { ...file, action: 'overwrite' } : { ...file, action: 'conflict', reason: 'exists and differs' };
    case 'link':
      return { ...file, action: 'blocked', reason: `${state.at} is a symbolic link; init never writes through one` };
    case 'not-a-file':
      return { ...file, action: 'blocked', reason: 'something other than a file is in the way' };
  }
}

/**
 * The plan: each file against what is there now, plus creating the lockfile when there is none.
 * Nothing is applied unless every file can be written, so a refusal changes nothing.
 */
export function planInit(input: {
  readonly files: readonly GeneratedFile[];
  readonly existing: (path: string) => ExistingState;
  readonly force: boolean;
  readonly lockfile: boolean;
}): InitPlan {
  const files = input.files.map((file) => actionFor(file, input.existing(file.path), input.force));
  const commands = input.lockfile ? [] : [['npm', 'install', '--package-lock-only', '--no-audit', '--no-fund']];
  return {
    files,
    commands,
    upToDate: commands.length === 0 && files.every((file) => file.action === 'unchanged'),
    applicable: files.every((file) => file.action !== 'conflict' && file.action !== 'blocked'),
  };
}
