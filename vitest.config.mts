import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, TestSpecification } from 'vitest/node';

/**
 * The files that take longest (seconds, each alone on a 2-core machine: README's "Tests"), started
 * first so that no long file starts last while the other workers have run out of files. A file
 * not listed here runs after these, in Vitest's own order (by its recorded duration when it has
 * one, else by size). Only the order depends on this list: a stale entry costs time, never a test.
 */
const SLOW_FILES: Readonly<Record<string, number>> = {
  'test/review/review.test.ts': 201,
  'test/browser/console.test.ts': 148,
  'test/e2e/gate-hostile.test.ts': 79,
  'test/review/production-review.test.ts': 70,
  'test/e2e/gate-process.test.ts': 64,
  'test/integration/deploy-job.test.ts': 63,
  'test/package/packed.test.ts': 62,
  'test/e2e/dapp-clients.test.ts': 57,
  'test/integration/control-plane-cli.test.ts': 57,
  'test/e2e/local.test.ts': 56,
  'test/e2e/gate-geth-methods.test.ts': 40,
  'test/integration/control-plane-engine.test.ts': 36,
};

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const seconds = (f: TestSpecification) => SLOW_FILES[relative(f.project.config.root, f.moduleId).split('\\').join('/')] ?? 0;
    // Array.prototype.sort is stable: unlisted files keep Vitest's order.
    return [...rest].sort((a, b) => seconds(b) - seconds(a));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the machine has cores: on a 2-core machine (the
    // project's CI) that is ONE worker, and the files ran one after another. Most files spend
    // most of their time waiting (on geth blocks, the gate's timeouts, moto, Chromium, the
    // console's polling: the e2e and browser files use 5-25% of a core), so three share two
    // cores well. Every file has its own ports, temporary directories and processes.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    sequence: { sequencer: SlowestFirst },
    reporters: ['default'],
  },
});
