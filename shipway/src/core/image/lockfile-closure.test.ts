import { describe, expect, it } from 'vitest';
import { productionClosure } from './lockfile-closure.js';

const lock = {
  lockfileVersion: 3,
  packages: {
    '': { dependencies: {} },
    service: { dependencies: { a: '^1', b: '^1' }, devDependencies: { dev: '^1' } },
    tools: { dependencies: { c: '^1' } },
    'node_modules/a': { version: '1.0.0', dependencies: { shared: '^1' } },
    'node_modules/b': { version: '1.0.0', dependencies: { shared: '^2' }, optionalDependencies: { missing: '^1' } },
    'node_modules/b/node_modules/shared': { version: '2.0.0' },
    'node_modules/shared': { version: '1.0.0' },
    'node_modules/c': { version: '1.0.0' },
    'node_modules/dev': { version: '1.0.0', dev: true },
    'service/node_modules/a': { version: '9.9.9' },
    'node_modules/service': { link: true },
  },
};

describe('productionClosure', () => {
  it("follows Node's resolution from the workspace, nested copies first, and skips dev and other workspaces", () => {
    expect(productionClosure(lock, 'service')).toEqual({
      ok: true,
      paths: ['node_modules/b', 'node_modules/b/node_modules/shared', 'service/node_modules/a'],
    });
  });

  it('resolves from the root for the root workspace', () => {
    const rootLock = { packages: { ...lock.packages, '': { dependencies: { a: '^1' } } } };
    expect(productionClosure(rootLock, '')).toEqual({ ok: true, paths: ['node_modules/a', 'node_modules/shared'] });
  });

  it('reports a dependency the lockfile does not have', () => {
    const broken = { packages: { service: { dependencies: { ghost: '^1' } } } };
    expect(productionClosure(broken, 'service')).toEqual({ ok: false, missing: 'ghost (needed by service)' });
  });
});
