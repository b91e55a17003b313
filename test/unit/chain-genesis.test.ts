import { Wallet, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  BlockchainClient,
  ConsensusProtocol,
  EVM_VERSIONS,
  EvmVersion,
  NodeRole,
  clientArguments,
  evmCeiling,
  parseTenantsConfig,
  resolveChainSpec,
  TenantConfigError,
} from '../../lib';
import { eip55Checksum } from '../../lib/chain/chain-spec';
import { buildGenesis } from '../../lib/chain/genesis';

const V = ['0xbe068f726a13c8d46c44be6ce9d275600e1735a4', '0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193', '0xfe3b557e8fb62b89f4916b721be55ceb828dbd73', '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'];
const base = { chainId: 1337, blockPeriodSeconds: 2, validators: V, freeGas: true };
type G = { config: Record<string, unknown>; alloc: Record<string, { balance: string }>; baseFeePerGas?: string; excessBlobGas?: string };
const genesis = (client: BlockchainClient, consensus: ConsensusProtocol, extra: object = {}) => buildGenesis({ ...base, client, consensus, ...extra }) as G;
const FORK_KEYS = ['londonBlock', 'shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime'];
const forks = (g: G) => FORK_KEYS.filter((k) => k in g.config);

describe('hard forks per client and consensus', () => {
  it.each([
    [BlockchainClient.BESU, ConsensusProtocol.QBFT, EvmVersion.CANCUN, ['londonBlock', 'shanghaiTime', 'cancunTime']],
    [BlockchainClient.BESU, ConsensusProtocol.IBFT2, EvmVersion.CANCUN, ['londonBlock', 'shanghaiTime', 'cancunTime']],
    [BlockchainClient.GETH, ConsensusProtocol.CLIQUE, EvmVersion.LONDON, ['londonBlock']],
    [BlockchainClient.GOQUORUM, ConsensusProtocol.IBFT, EvmVersion.BERLIN, []],
    [BlockchainClient.GOQUORUM, ConsensusProtocol.QBFT, EvmVersion.BERLIN, []],
    [BlockchainClient.GOQUORUM, ConsensusProtocol.RAFT, EvmVersion.BERLIN, []],
    [BlockchainClient.GOQUORUM, ConsensusProtocol.CLIQUE, EvmVersion.BERLIN, []],
  ] as const)('%s + %s runs %s from block 0 by default', (client, consensus, evm, keys) => {
    expect(evmCeiling(client, consensus).newest).toBe(evm);
    const g = genesis(client, consensus);
    expect(forks(g)).toEqual(keys);
    for (const k of keys) expect(g.config[k]).toBe(0);
    expect(g.config.berlinBlock).toBe(0);
  });

  it('Besu Cancun: zero base fee (free gas) and the Cancun genesis header fields', () => {
    const g = genesis(BlockchainClient.BESU, ConsensusProtocol.QBFT);
    expect(g.config.zeroBaseFee).toBe(true);
    expect(g).toMatchObject({ baseFeePerGas: '0x0', blobGasUsed: '0x0', excessBlobGas: '0x0', parentBeaconBlockRoot: '0x' + '00'.repeat(32) });
    const paid = genesis(BlockchainClient.BESU, ConsensusProtocol.QBFT, { freeGas: false });
    expect(paid.config).not.toHaveProperty('zeroBaseFee');
    expect(paid).not.toHaveProperty('baseFeePerGas');
  });

  it('an older fork on request: Besu at Berlin has no London fee market and no zero base fee', () => {
    const g = genesis(BlockchainClient.BESU, ConsensusProtocol.QBFT, { evmVersion: EvmVersion.BERLIN });
    expect(forks(g)).toEqual([]);
    expect(g.config).not.toHaveProperty('zeroBaseFee');
    expect(g).not.toHaveProperty('excessBlobGas');
    expect(forks(genesis(BlockchainClient.BESU, ConsensusProtocol.QBFT, { evmVersion: EvmVersion.SHANGHAI }))).toEqual(['londonBlock', 'shanghaiTime']);
  });

  it('buildGenesis refuses a fork the client cannot run', () => {
    expect(() => genesis(BlockchainClient.GETH, ConsensusProtocol.CLIQUE, { evmVersion: EvmVersion.SHANGHAI })).toThrow(/geth \+ clique cannot run shanghai/);
  });

  it.each([
    [BlockchainClient.GETH, ConsensusProtocol.CLIQUE, EvmVersion.SHANGHAI, /chain\.evmVersion: geth \+ clique cannot run "shanghai"; the newest it runs is "london": geth 1\.13\.15 seals Clique blocks only up to London.*Set chain\.evmVersion to "london" or leave it out/],
    [BlockchainClient.GETH, ConsensusProtocol.CLIQUE, EvmVersion.CANCUN, /cannot run "cancun"/],
    [BlockchainClient.GOQUORUM, ConsensusProtocol.IBFT, EvmVersion.LONDON, /goquorum \+ ibft cannot run "london"; the newest it runs is "berlin": GoQuorum 24\.4\.1/],
    [BlockchainClient.BESU, ConsensusProtocol.QBFT, EvmVersion.PRAGUE, /besu \+ qbft cannot run "prague"; the newest it runs is "cancun": Prague and later need the EIP-2935\/7002\/7251 system contracts/],
    [BlockchainClient.BESU, ConsensusProtocol.IBFT2, EvmVersion.OSAKA, /cannot run "osaka"/],
  ] as const)('%s + %s refuses evmVersion %s at synth, naming the prop and the fix', (client, consensus, evmVersion, message) => {
    const nodes = [1, 2, 3, 4].map((i) => ({ id: `v${i}x`, member: 'default', role: NodeRole.VALIDATOR }));
    const { problems, resolved } = resolveChainSpec({ client, consensus, evmVersion, nodes });
    expect(resolved).toBeUndefined();
    expect(problems.join('\n')).toMatch(message);
  });

  it('names every fork in order', () => {
    expect(EVM_VERSIONS).toEqual(['berlin', 'london', 'shanghai', 'cancun', 'prague', 'osaka']);
  });
});

describe('prefunded accounts', () => {
  const KEY = '8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63';

  it('go into the genesis alloc of every client, balances as hex wei', () => {
    for (const [client, consensus] of [
      [BlockchainClient.BESU, ConsensusProtocol.QBFT],
      [BlockchainClient.GETH, ConsensusProtocol.CLIQUE],
      [BlockchainClient.GOQUORUM, ConsensusProtocol.IBFT],
    ] as const) {
      const g = genesis(client, consensus, { alloc: { [getAddress(V[2])]: '1000000000000000000000', [V[3]]: '0x1' } });
      expect(g.alloc).toEqual({ [V[2].slice(2)]: { balance: '0x3635c9adc5dea00000' }, [V[3].slice(2)]: { balance: '0x1' } });
    }
  });

  it('resolve to checksummed addresses and hex balances, lowercase or checksummed input', () => {
    const { resolved, problems } = resolveChainSpec({
      prefundedAccounts: [
        { address: V[2], balance: '1000000000000000000000' },
        { address: getAddress(V[3]), balance: '0xDE0B6B3A7640000' },
      ],
    });
    expect(problems).toEqual([]);
    expect(resolved!.prefundedAccounts).toEqual([
      { address: getAddress(V[2]), balance: '0x3635c9adc5dea00000' },
      { address: getAddress(V[3]), balance: '0xde0b6b3a7640000' },
    ]);
    expect(resolveChainSpec({}).resolved!.prefundedAccounts).toEqual([]);
  });

  const P = 'tenants[0].environments[0].chain.prefundedAccounts';
  const problems = (prefundedAccounts: unknown): readonly string[] => {
    try {
      parseTenantsConfig({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16', chain: { prefundedAccounts } }] }] }, 't.json');
    } catch (e) {
      expect(e).toBeInstanceOf(TenantConfigError);
      return (e as TenantConfigError).problems;
    }
    throw new Error('accepted');
  };

  it('are read from the config file and refused with the field path and the fix', () => {
    const mixed = getAddress(V[2]);
    const badChecksum = mixed.slice(0, 3) + (mixed[3] === mixed[3].toUpperCase() ? mixed[3].toLowerCase() : mixed[3].toUpperCase()) + mixed.slice(4);
    const got = problems([
      { address: badChecksum, balance: '1' },
      { address: 'fe3b557e8fb62b89f4916b721be55ceb828dbd73', balance: '1' },
      { address: V[0], balance: 1000 },
      { address: V[1], balance: '1.5 ether' },
      { address: V[3], balance: '0' },
      { address: V[3].toUpperCase().replace('0X', '0x'), balance: '1' },
      { address: '0x' + '0'.repeat(40), balance: '1' },
      { address: V[0], balance: '1', privateKey: KEY },
    ]);
    expect(got).toEqual([
      `${P}[7].privateKey: unknown field Allowed fields here: address, balance`,
    ]);
    const fieldProblems = problems([
      { address: badChecksum, balance: '1' },
      { address: 'fe3b557e8fb62b89f4916b721be55ceb828dbd73', balance: '1' },
      { address: V[0], balance: 1000 },
      { address: V[1], balance: '1.5 ether' },
      { address: V[3], balance: '0' },
      { address: V[3].toUpperCase().replace('0X', '0x'), balance: '1' }, // all caps: valid, and the same account as [4]
      { address: '0x' + '0'.repeat(40), balance: '1' },
    ]);
    expect(fieldProblems).toEqual([
      `${P}[0].address: "${badChecksum}" has a wrong EIP-55 checksum (mixed case that does not match, often a typo); copy the address again or write it all lowercase`,
      `${P}[1].address: "fe3b557e8fb62b89f4916b721be55ceb828dbd73" is not an address; write 0x followed by 40 hex digits, e.g. "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73"`,
      `${P}[2].balance: must be a string of wei, e.g. "1000000000000000000000" (1000 ether); a JSON number loses precision`,
      `${P}[3].balance: "1.5 ether" is not a whole number of wei; write decimal digits (e.g. "1000000000000000000000" for 1000 ether) or 0x hex, with no units or decimal point`,
      `${P}[4].balance: is 0; give the account a balance in wei, e.g. "1000000000000000000000" (1000 ether), or remove the entry`,
      `${P}[5].address: ${V[3].toUpperCase().replace('0X', '0x')} is also ${P}[4]; list each account once with its total balance`,
      `${P}[6].address: the zero address has no key, so its ether could never be spent; give an address you hold the key of`,
    ]);
  });

  it('never echo a private key given where the address belongs', () => {
    for (const address of [KEY, '0x' + KEY]) {
      const got = problems([{ address, balance: '1' }]);
      expect(got).toEqual([
        `${P}[0].address: this looks like a private key (64 hex digits), not an address; put the account's address here (0x and 40 hex digits) and keep the key out of the config`,
      ]);
      expect(got.join('\n')).not.toContain(KEY);
    }
    const long = 'test test test test test test test test test test test junk';
    expect(problems([{ address: long, balance: '1' }]).join('\n')).not.toContain('junk');
  });

  it('are capped so the genesis fits its secret and the custom resource', () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ address: '0x' + (i + 1).toString(16).padStart(40, '0'), balance: '1' }));
    expect(problems(many)).toEqual([`${P}: 101 accounts; the genesis takes at most 100. Fund a few accounts here and send ether to the others once the chain runs`]);
  });
});

describe('client arguments by role', () => {
  const chainOf = (client: BlockchainClient, consensus: ConsensusProtocol) => {
    const nodes = [1, 2, 3, 4].map((i) => ({ id: `v${i}x`, member: 'default', role: NodeRole.VALIDATOR }));
    return resolveChainSpec({ client, consensus, nodes, allowDeprecated: true }).resolved!;
  };

  it('geth: only a validator mines and unlocks; every node applies the same gas floor', () => {
    const chain = chainOf(BlockchainClient.GETH, ConsensusProtocol.CLIQUE);
    const signer = clientArguments(chain, '10.0.0.1', 30303, NodeRole.VALIDATOR);
    const member = clientArguments(chain, '10.0.0.2', 30303, NodeRole.MEMBER);
    expect(signer).toEqual(expect.arrayContaining(['--mine', '--unlock=$SIGNER_ADDRESS', '--allow-insecure-unlock', '--miner.gaslimit=9007199254740991']));
    expect(member.filter((a) => a === '--mine' || /^--(unlock|password|allow-insecure-unlock|miner\.etherbase|miner\.gaslimit)\b/.test(a))).toEqual([]);
    const gas = ['--txpool.nolocals', '--miner.gasprice=1', '--txpool.pricelimit=1', '--gpo.maxprice=1'];
    expect(signer).toEqual(expect.arrayContaining(gas));
    expect(member).toEqual(expect.arrayContaining(gas));
    const paid = { ...chain, freeGas: false };
    expect(clientArguments(paid, '10.0.0.2', 30303, NodeRole.MEMBER).filter((a) => /gasprice|pricelimit|gpo/.test(a))).toEqual([]);
    expect(clientArguments(paid, '10.0.0.2', 30303, NodeRole.MEMBER)).toContain('--txpool.nolocals');
  });

  it('GoQuorum: BFT validators mine, members do not; Clique members unlock nothing', () => {
    const ibft = chainOf(BlockchainClient.GOQUORUM, ConsensusProtocol.IBFT);
    expect(clientArguments(ibft, '10.0.0.1', 30303, NodeRole.VALIDATOR)).toContain('--mine');
    expect(clientArguments(ibft, '10.0.0.1', 30303, NodeRole.MEMBER)).not.toContain('--mine');
    const clique = chainOf(BlockchainClient.GOQUORUM, ConsensusProtocol.CLIQUE);
    expect(clientArguments(clique, '10.0.0.1', 30303, NodeRole.MEMBER).join(' ')).not.toMatch(/--unlock|--mine /);
    expect(clientArguments(clique, '10.0.0.1', 30303, NodeRole.VALIDATOR)).toContain('--unlock=$SIGNER_ADDRESS');
  });

  it('Besu: the same arguments for every role (its validators are the genesis extraData)', () => {
    const chain = chainOf(BlockchainClient.BESU, ConsensusProtocol.QBFT);
    expect(clientArguments(chain, '10.0.0.1', 30303, NodeRole.MEMBER)).toEqual(clientArguments(chain, '10.0.0.1', 30303, NodeRole.VALIDATOR));
    expect(clientArguments(chain, '10.0.0.1', 30303, NodeRole.MEMBER)).toEqual(expect.arrayContaining(['--min-gas-price=0', '--tx-pool-min-gas-price=0']));
  });
});

describe('EIP-55 checksums without ethers (the config check runs at synth)', () => {
  it('matches ethers getAddress on random addresses and the vectors', () => {
    const addresses = [...V, ...Array.from({ length: 200 }, () => Wallet.createRandom().address.toLowerCase())];
    for (const a of addresses) expect(eip55Checksum(a)).toBe(getAddress(a));
  });
});
