import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The end-to-end files, longest first, with their time on this project's 2-core machine when run
 * alone (seconds, rounded). Two workers share the cores: starting the longest files first keeps one
 * of them from starting last and running on alone, which a fresh clone (no vitest cache of
 * earlier durations, so files run in glob order) would otherwise do.
 */
const HEAVY: Readonly<Record<string, number>> = {
  'shipway/test/multi-repo.test.ts': 390,
  'shipway/test/pipeline-run.test.ts': 310,
  'shipway/test/browser/dashboard.test.ts': 150,
  'shipway/test/init.test.ts': 120,
  'shipway/test/image-build.test.ts': 80,
  'shipway/test/cluster-e2e.test.ts': 75,
  'shipway/test/cluster-apps.test.ts': 70,
  'shipway/test/hardening/image.test.ts': 70,
  'shipway/test/hardening/cluster.test.ts': 70,
  'shipway/test/tool-image.test.ts': 60,
  'shipway/test/image-build-dockerfile.test.ts': 60,
  'shipway/test/hardening/planner.test.ts': 60,
  'shipway/test/hardening/local-stack.test.ts': 50,
  'shipway/test/hardening/gitops.test.ts': 45,
  'shipway/test/cluster-analysis.test.ts': 40,
};

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const weight = (file: TestSpecification) => HEAVY[relative(file.project.config.root, file.moduleId)] ?? 0;
    // Array.prototype.sort is stable: files of equal weight keep vitest's own order.
    return ordered.sort((a, b) => weight(b) - weight(a));
  }
}
