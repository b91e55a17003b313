import { describe, expect, it } from 'vitest';
import { gateHealthBlockAge } from '../../lib/nodes/node-services';

// The block age a node's /health may show (the gate's HEALTH_MAX_BLOCK_AGE_SECONDS); the gate's
// /health itself is part of the gate contract (test/e2e/gate-http.test.ts, gate-process.test.ts).
describe('gate /health block age', () => {
  it('derives the block age a node may show from the chain (none for Raft)', () => {
    expect(gateHealthBlockAge({ consensus: 'qbft', blockPeriodSeconds: 2 })).toBe(300);
    expect(gateHealthBlockAge({ consensus: 'clique', blockPeriodSeconds: 15 })).toBe(450);
    expect(gateHealthBlockAge({ consensus: 'raft', blockPeriodSeconds: 1 })).toBeUndefined();
  });
});
