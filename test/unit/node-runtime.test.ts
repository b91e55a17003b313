import { describe, expect, it } from 'vitest';
import { NODE_LTS_END_OF_LIFE, NODE_PROGRAM_NODE_MAJOR, nodeProgramRuntime } from '../../lib';
import { PREBUILT_ASSETS } from '../../lib/assets/prebuilt-assets';

// The Node.js that runs the gate and the metric publisher on every node is pinned once
// (lib/nodes/node-runtime.ts); the boot script and the bundle read the pin. This test fails when
// the pin is not a supported LTS line, or when its end of life is less than 90 days away, so the
// pin is moved before the nodes run an unsupported runtime.
describe('the node programs runtime pin', () => {
  const runtime = nodeProgramRuntime();

  it('is an even (LTS) Node.js line of 22 or later, as Amazon Linux 2023 packages it', () => {
    expect(NODE_PROGRAM_NODE_MAJOR % 2).toBe(0);
    expect(NODE_PROGRAM_NODE_MAJOR).toBeGreaterThanOrEqual(22);
    expect(runtime).toEqual({
      major: NODE_PROGRAM_NODE_MAJOR,
      dnfPackage: `nodejs${NODE_PROGRAM_NODE_MAJOR}`,
      executable: `/usr/bin/node-${NODE_PROGRAM_NODE_MAJOR}`,
      esbuildTarget: `node${NODE_PROGRAM_NODE_MAJOR}`,
      endOfLife: NODE_LTS_END_OF_LIFE[NODE_PROGRAM_NODE_MAJOR],
    });
  });

  it('is supported for at least another 90 days', () => {
    const ninetyDays = 90 * 86_400_000;
    expect(Date.parse(`${runtime.endOfLife}T00:00:00Z`) - Date.now(), `Node.js ${runtime.major} ends ${runtime.endOfLife}: move NODE_PROGRAM_NODE_MAJOR`).toBeGreaterThan(ninetyDays);
  });

  it('is the esbuild target of the metric publisher (the gate is a Go binary, ADR 10)', () => {
    expect(PREBUILT_ASSETS['node-metrics']).toMatchObject({ target: runtime.esbuildTarget, kind: 'node-program' });
    expect(PREBUILT_ASSETS['node-gate']).toMatchObject({ kind: 'go-program', entry: 'gate' });
  });

  it('refuses a line Amazon Linux 2023 does not ship, and knows Node.js 20 is past its end of life', () => {
    expect(() => nodeProgramRuntime(23)).toThrow('nodeProgramRuntime: Node.js 23 is not an LTS line Amazon Linux 2023 ships; use one of 20, 22, 24');
    expect(Date.parse(NODE_LTS_END_OF_LIFE[20])).toBeLessThan(Date.parse('2026-11-01'));
  });
});
