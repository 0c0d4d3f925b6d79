/**
 * shipway's layering (conventions.md, "The layout shows the architecture"): dependencies point
 * inward, cli → app → core, with adapters and the embedded defaults (local) in between.
 * `npm test` runs this; a forbidden import fails it.
 */
const src = '^shipway/src/';
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'core holds pure decisions: it imports nothing from the other layers',
      severity: 'error',
      from: { path: `${src}core/` },
      to: { path: `${src}(?!core/)` },
    },
    {
      name: 'core-is-pure',
      comment:
        'core does no I/O: no fs, child_process, network, os or process modules (hashing, POSIX path arithmetic and lazy module loading are pure)',
      severity: 'error',
      from: { path: `${src}core/`, pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?(crypto|path/posix|module)$' },
    },
    {
      name: 'core-uses-no-io-libraries',
      comment: 'clients of outside systems belong in adapters',
      severity: 'error',
      from: { path: `${src}core/` },
      to: { path: 'node_modules/(undici|@kubernetes/client-node|@aws-sdk|@gitbeaker|fastify|pino|tar-stream)/' },
    },
    {
      // Adapters wrap one outside system each; they may build on another adapter (git and
      // kustomize run through the process adapter) but never on use-cases, the CLI or local.
      name: 'adapters-import-only-core-and-adapters',
      severity: 'error',
      from: { path: `${src}adapters/` },
      to: { path: `${src}(app|cli|local)/` },
    },
    {
      name: 'local-imports-only-core-and-adapters',
      comment: 'the embedded defaults (registry, cluster) are outside systems too: they never call use-cases or the CLI',
      severity: 'error',
      from: { path: `${src}local/` },
      to: { path: `${src}(app|cli)/` },
    },
    {
      name: 'app-does-not-import-cli',
      severity: 'error',
      from: { path: `${src}app/` },
      to: { path: `${src}cli/` },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: src },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'], conditionNames: ['import', 'node', 'default'] },
  },
};
