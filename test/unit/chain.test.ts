import { describe, expect, it } from 'vitest';
import { decodeRlp, getAddress } from 'ethers';
import { BlockchainClient, COMPATIBILITY, ConsensusProtocol, NodeRole, SupportLevel, resolveChainSpec } from '../../lib';
import { BFT_MIX_HASH, buildGenesis, cliqueExtraData, ibft2ExtraData, istanbulExtraData, qbftExtraData } from '../../lib/chain/genesis';
import { enodeUrl, generateNodeKey, nodeIdentity } from '../../lib/chain/keys';

// Validators of Besu's RLPSubCommandTest (besu-eth/besu, besu/src/test/java/.../RLPSubCommandTest.java):
// encoding these two addresses gives the published IBFT 2.0 and QBFT extraData below.
const V1 = '0xbe068f726a13c8d46c44be6ce9d275600e1735a4';
const V2 = '0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193';
const VANITY = '0'.repeat(64);

describe('extraData encoders against published vectors', () => {
  it('IBFT 2.0 (Besu RLPSubCommandTest)', () => {
    expect(ibft2ExtraData([V1, V2])).toBe(
      `0xf853a0${VANITY}ea94be068f726a13c8d46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193808400000000c0`,
    );
  });

  it('QBFT (Besu RLPSubCommandTest)', () => {
    expect(qbftExtraData([V1, V2])).toBe(
      `0xf84fa0${VANITY}ea94be068f726a13c8d46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193c080c0`,
    );
  });

  it('GoQuorum Istanbul: 32-byte vanity + RLP([validators, seal, committedSeals])', () => {
    const extra = istanbulExtraData([V1, V2]);
    expect(extra.slice(0, 66)).toBe('0x' + VANITY);
    // The structure GoQuorum's istanbul.IstanbulExtra decodes (core/types/istanbul.go).
    expect(decodeRlp('0x' + extra.slice(66))).toEqual([[V1, V2], '0x', []]);
  });

  it('Clique: 32 zero bytes + signers ascending + 65-byte empty seal (geth consensus/clique)', () => {
    const extra = cliqueExtraData([V1, V2]);
    expect(extra).toBe('0x' + VANITY + V2.slice(2) + V1.slice(2) + '00'.repeat(65));
    expect((extra.length - 2) / 2).toBe(32 + 2 * 20 + 65);
  });
});

describe('node keys', () => {
  it('derive the published addresses (key vectors)', () => {
    expect(nodeIdentity('0x' + '0'.repeat(63) + '1').address).toBe(getAddress('0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'));
    expect(nodeIdentity('0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63').address).toBe(
      getAddress('0xfe3b557e8fb62b89f4916b721be55ceb828dbd73'),
    );
  });

  it('gives a 128-hex enode id (the generator point for key 1)', () => {
    expect(nodeIdentity('0x' + '0'.repeat(63) + '1').enodeId).toBe(
      '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8',
    );
  });

  it('generates distinct valid keys and never echoes a bad key', () => {
    const a = generateNodeKey();
    const b = generateNodeKey();
    expect(a).toMatch(/^0x[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(nodeIdentity(a).enodeId).toMatch(/^[0-9a-f]{128}$/);
    const bad = '0xdeadbeef';
    expect(() => nodeIdentity(bad)).toThrow(/0x followed by 64 hex/);
    try {
      nodeIdentity(bad);
    } catch (e) {
      expect((e as Error).message).not.toContain('deadbeef');
    }
  });

  it('writes enode URLs, with Raft ports for GoQuorum Raft', () => {
    const id = nodeIdentity('0x' + '0'.repeat(63) + '1').enodeId;
    expect(enodeUrl(id, '10.0.1.10')).toBe(`enode://${id}@10.0.1.10:30303`);
    expect(enodeUrl(id, '10.0.1.10', { raftPort: 50400 })).toBe(`enode://${id}@10.0.1.10:30303?discport=0&raftport=50400`);
    expect(() => enodeUrl(id, 'node-1')).toThrow(/not an IPv4 address/);
  });
});

describe('genesis', () => {
  const base = { chainId: 1337, blockPeriodSeconds: 2, validators: [V1, V2, '0xfe3b557e8fb62b89f4916b721be55ceb828dbd73', '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'], freeGas: true };

  it('Besu QBFT: qbft config, BFT mixHash and difficulty, zero base fee, validators in extraData', () => {
    const g = buildGenesis({ ...base, client: BlockchainClient.BESU, consensus: ConsensusProtocol.QBFT }) as {
      config: Record<string, unknown>;
      mixHash: string;
      difficulty: string;
      extraData: string;
    };
    expect(g.config).toMatchObject({ chainId: 1337, londonBlock: 0, zeroBaseFee: true, qbft: { blockperiodseconds: 2, epochlength: 30000 } });
    expect(g.mixHash).toBe(BFT_MIX_HASH);
    expect(g.difficulty).toBe('0x1');
    const [, validators] = decodeRlp(g.extraData) as [string, string[]];
    expect(validators.map((v) => v.toLowerCase())).toEqual(base.validators.map((v) => v.toLowerCase()));
    // The genesis round-trips through JSON (what the nodes read).
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('GoQuorum IBFT and QBFT: config.ibft / config.qbft with ceil2Nby3Block 0', () => {
    const ibft = buildGenesis({ ...base, client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.IBFT }) as { config: Record<string, unknown> };
    expect(ibft.config).toMatchObject({ isQuorum: true, ibft: { ceil2Nby3Block: 0, blockperiodseconds: 2 } });
    expect(ibft.config).not.toHaveProperty('istanbul');
    const qbft = buildGenesis({ ...base, client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.QBFT }) as { config: Record<string, unknown> };
    expect(qbft.config).toMatchObject({ qbft: { ceil2Nby3Block: 0 } });
  });

  it('Clique on geth: clique config, London with a zero base fee for free gas', () => {
    const g = buildGenesis({ ...base, client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE }) as { config: Record<string, unknown>; baseFeePerGas?: string };
    expect(g.config).toMatchObject({ clique: { period: 2, epoch: 30000 }, berlinBlock: 0, londonBlock: 0 });
    expect(g.baseFeePerGas).toBe('0x0');
    const paid = buildGenesis({ ...base, freeGas: false, client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE }) as { config: Record<string, unknown>; baseFeePerGas?: string };
    expect(paid.config).toHaveProperty('londonBlock', 0);
    expect(paid).not.toHaveProperty('baseFeePerGas'); // geth's own first base fee (1 gwei)
  });

  it('refuses combinations a client cannot run', () => {
    expect(() => buildGenesis({ ...base, client: BlockchainClient.GETH, consensus: ConsensusProtocol.QBFT })).toThrow(/geth cannot run qbft/);
  });
});

describe('compatibility matrix and chain spec validation', () => {
  it('covers every client x consensus pair exactly once', () => {
    const pairs = COMPATIBILITY.map((e) => `${e.client}+${e.consensus}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs).toHaveLength(Object.values(BlockchainClient).length * Object.values(ConsensusProtocol).length);
  });

  it('defaults to Besu + QBFT with 4 validators', () => {
    const { resolved, problems } = resolveChainSpec({});
    expect(problems).toEqual([]);
    expect(resolved).toMatchObject({ client: 'besu', consensus: 'qbft', chainId: 1337, freeGas: true, warnings: [] });
    expect(resolved!.nodes.map((n) => [n.id, n.role, n.instanceType, n.architecture])).toEqual([
      ['validator-1', 'validator', 't4g.medium', 'arm64'],
      ['validator-2', 'validator', 't4g.medium', 'arm64'],
      ['validator-3', 'validator', 't4g.medium', 'arm64'],
      ['validator-4', 'validator', 't4g.medium', 'arm64'],
    ]);
  });

  it('warns for GoQuorum (archived) and names the migration path', () => {
    const { resolved } = resolveChainSpec({ client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.IBFT });
    expect(resolved!.warnings[0]).toMatch(/archived in June 2026.*Migration path: QBFT on Hyperledger Besu/);
  });

  const four = [1, 2, 3, 4].map((i) => ({ id: `v${i}x`, member: 'default', role: NodeRole.VALIDATOR }));
  it.each([
    [{ client: BlockchainClient.GETH, consensus: ConsensusProtocol.QBFT }, /chain\.consensus: geth cannot run "qbft"\. Geth has no BFT consensus; use client "besu"/],
    [{ client: BlockchainClient.BESU, consensus: ConsensusProtocol.RAFT }, /besu cannot run "raft"/],
    [{ client: BlockchainClient.BESU, consensus: ConsensusProtocol.CLIQUE }, /deprecated and needs an explicit opt-in \(set chain\.allowDeprecated to true\)/],
    [{ client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.RAFT, nodes: four }, /not for production/],
    [{ nodes: four.slice(0, 3) }, /chain\.nodes: 3 validator\(s\) for qbft; a BFT network needs n >= 3f\+1 validators/],
    [{ nodes: [...four, { id: 'v1x', member: 'default', role: NodeRole.MEMBER }] }, /chain\.nodes\[4\]\.id: duplicate node id "v1x"/],
    [{ nodes: [...four.slice(0, 3), { id: 'v4x', member: 'globex', role: NodeRole.VALIDATOR }] }, /chain\.nodes\[3\]\.member: "globex" is not a member of this environment; add it to chain\.members/],
    [{ nodes: [{ ...four[0], instanceType: 'm7g.large', architecture: 'x86_64' }, ...four.slice(1)] }, /instanceType: "m7g\.large" does not match architecture "x86_64"/],
    [{ chainId: 1 }, /chain\.chainId: 1 is not allowed/],
    [{ blockPeriodSeconds: 0 }, /chain\.blockPeriodSeconds: 0 is out of range/],
  ] as const)('refuses %j', (spec, message) => {
    const { problems, resolved } = resolveChainSpec(spec as never);
    expect(resolved).toBeUndefined();
    expect(problems.join('\n')).toMatch(message);
  });

  it('accepts a deprecated combination with the opt-in, and warns', () => {
    const { resolved } = resolveChainSpec({ client: BlockchainClient.BESU, consensus: ConsensusProtocol.CLIQUE, allowDeprecated: true });
    expect(resolved!.warnings[0]).toMatch(/deprecated/);
    expect(COMPATIBILITY.find((e) => e.client === 'besu' && e.consensus === 'clique')!.level).toBe(SupportLevel.DEPRECATED);
  });

  it('infers x86_64 from an x86 instance type', () => {
    const { resolved } = resolveChainSpec({ nodes: four.map((n) => ({ ...n, instanceType: 'm7i.large' })) });
    expect(resolved!.nodes[0].architecture).toBe('x86_64');
  });
});
