// prepack: the CI/CD component's canonical copy is templates/deliver.yml at the repository root
// (where GitLab's CI/CD catalog reads it, docs/gitlab.md); the package ships the same bytes in
// templates/, so `shipway/templates/deliver.yml` can be resolved from an installed shipway.
// shipway/test/init.test.ts checks the packed copy is byte-identical to the root one.
import { copyFileSync, mkdirSync } from 'node:fs';

const source = new URL('../../templates/deliver.yml', import.meta.url);
const target = new URL('../templates/', import.meta.url);
mkdirSync(target, { recursive: true });
copyFileSync(source, new URL('deliver.yml', target));
