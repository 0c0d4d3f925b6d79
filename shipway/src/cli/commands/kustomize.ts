import type { Command } from 'commander';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';

export function registerKustomize(program: Command, io: CliIo): void {
  const kustomize = program.command('kustomize').description('edit kustomization files');
  kustomize
    .command('set-image')
    .description('set images in <dir>/kustomization.yaml exactly as `kustomize edit set image` does, keeping comments')
    .argument('<dir>', 'the directory holding kustomization.yaml, kustomization.yml or Kustomization')
    .argument(
      '[image...]',
      'name=newName:tag, name:tag, name@digest, name:tag@digest, name=newName@digest, name=newName:tag@digest, name=newName; * keeps a field',
    )
    .option('--json', 'print the resulting images as JSON', false)
    .action(async (dir: string, images: string[], options: { json: boolean }) => {
      const { context, output } = contextFor(io, options.json);
      const result = await (await import('../../app/set-image.js')).setImage(context, dir, images);
      if (output.json) return output.data(result);
      output.result(`${result.changed ? 'updated' : 'unchanged'} ${result.file}`);
    });
}
