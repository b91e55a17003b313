import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATE_CONTRACTS_FILE, gateContractsSource } from '../../scripts/gate-contracts';
import { STANDARD_METHODS } from '../../lib/contracts/rpc-policy';
import { GATE_ALLOW_TTL_SECONDS } from '../../lib/contracts/revocation';

// The Go gate's constants (gate/internal/contracts/contracts_gen.go) are generated from
// lib/contracts: change a contract and run `npx tsx scripts/gate-contracts.ts`.
describe("the Go gate's generated contracts", () => {
  it('are current (scripts/gate-contracts.ts regenerates them)', () => {
    const source = gateContractsSource();
    // The generator really carries the contracts (a change to them changes the file).
    expect(source).toContain(`const GateAllowTTLSeconds = ${GATE_ALLOW_TTL_SECONDS}\n`);
    for (const m of STANDARD_METHODS) expect(source).toContain(`\t"${m}",\n`);
    expect(source).toContain('const MetricNamespacePrefix = "BlockchainTenancy"');
    expect(readFileSync(GATE_CONTRACTS_FILE, 'utf8') === source, 'gate/internal/contracts/contracts_gen.go is stale: run npx tsx scripts/gate-contracts.ts').toBe(true);
  });
});
