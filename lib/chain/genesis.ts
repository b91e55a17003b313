import { encodeRlp, getAddress } from 'ethers';
import { EvmVersion, evmAtLeast, evmCeiling } from './evm-version';
import { BlockchainClient, ConsensusProtocol, DEFAULT_GAS_LIMIT } from './protocols';

/** BFT genesis mixHash ("Istanbul byzantine fault tolerance" digest), per Besu and GoQuorum docs. */
export const BFT_MIX_HASH = '0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365';
const ZERO32 = '0x' + '00'.repeat(32);
const ZERO_ADDRESS = '0x' + '00'.repeat(20);

/** What a genesis is built from (all public data). */
export interface GenesisInput {
  readonly client: BlockchainClient;
  readonly consensus: ConsensusProtocol;
  readonly chainId: number;
  readonly blockPeriodSeconds: number;
  /** Validator / signer addresses (the order is preserved for BFT, sorted for Clique). */
  readonly validators: readonly string[];
  /**
   * Free gas: a zero base fee from block 0 (Besu `zeroBaseFee`, geth `baseFeePerGas` 0) or, before
   * London, legacy gas at price 0 (GoQuorum). The nodes' minimum prices come from the client
   * arguments (lib/nodes/client-command.ts).
   */
  readonly freeGas: boolean;
  /** Pre-funded accounts: address -> balance in wei (decimal or 0x hex string). */
  readonly alloc?: Readonly<Record<string, string>>;
  /** Block gas limit. @default DEFAULT_GAS_LIMIT */
  readonly gasLimit?: string;
  /**
   * Hard fork the chain runs from block 0.
   * @default - the newest the client runs with the consensus ({@link evmCeiling})
   */
  readonly evmVersion?: EvmVersion;
}

/** A genesis file as JSON. */
export type Genesis = Record<string, unknown>;

function checksummed(validators: readonly string[]): string[] {
  return validators.map((v) => getAddress(v));
}

/**
 * Besu IBFT 2.0 extraData: RLP([32-byte vanity, [validators], no vote (empty bytes), round 0 as
 * 4 zero bytes, no seals]).
 */
export function ibft2ExtraData(validators: readonly string[]): string {
  return encodeRlp([ZERO32, checksummed(validators).map((v) => v.toLowerCase()), '0x', '0x00000000', []]);
}

/** QBFT extraData (Besu and GoQuorum): RLP([32-byte vanity, [validators], no vote ([]), round 0 (empty), no seals]). */
export function qbftExtraData(validators: readonly string[]): string {
  return encodeRlp([ZERO32, checksummed(validators).map((v) => v.toLowerCase()), [], '0x', []]);
}

/** GoQuorum Istanbul (IBFT) extraData: 32-byte vanity + RLP([[validators], seal (empty), committed seals ([])]). */
export function istanbulExtraData(validators: readonly string[]): string {
  const rlp = encodeRlp([checksummed(validators).map((v) => v.toLowerCase()), '0x', []]);
  return '0x' + '00'.repeat(32) + rlp.slice(2);
}

/** Clique extraData: 32 zero bytes + signer addresses (ascending) + 65 zero bytes (seal). */
export function cliqueExtraData(signers: readonly string[]): string {
  const sorted = checksummed(signers)
    .map((s) => s.toLowerCase().slice(2))
    .sort();
  return '0x' + '00'.repeat(32) + sorted.join('') + '00'.repeat(65);
}

/** Builds the genesis file for a client x consensus combination. */
export function buildGenesis(input: GenesisInput): Genesis {
  if (input.validators.length === 0) throw new Error('buildGenesis: validators is empty; give at least one validator address');
  const alloc: Record<string, { balance: string }> = {};
  for (const [address, balance] of Object.entries(input.alloc ?? {})) {
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(balance)) throw new Error(`buildGenesis: the balance of ${address} is not a whole number of wei; write it in decimal or 0x hex`);
    alloc[getAddress(address).toLowerCase().slice(2)] = { balance: '0x' + BigInt(balance).toString(16) };
  }
  const { client, consensus, chainId } = input;
  const ceiling = evmCeiling(client, consensus);
  const evm = input.evmVersion ?? ceiling.newest;
  if (!evmAtLeast(ceiling.newest, evm)) throw new Error(`buildGenesis: ${client} + ${consensus} cannot run ${evm}: ${ceiling.reason}`);
  const gasLimit = input.gasLimit ?? DEFAULT_GAS_LIMIT;
  const period = input.blockPeriodSeconds;
  const requestTimeout = Math.max(4, 2 * period);
  const base = { nonce: '0x0', timestamp: '0x0', gasLimit, coinbase: ZERO_ADDRESS, alloc };
  // Fork blocks for a fresh private chain: everything from block 0.
  const preLondon = {
    homesteadBlock: 0,
    eip150Block: 0,
    eip155Block: 0,
    eip158Block: 0,
    byzantiumBlock: 0,
    constantinopleBlock: 0,
    petersburgBlock: 0,
    istanbulBlock: 0,
    muirGlacierBlock: 0,
    berlinBlock: 0,
  };
  // London and later, from block 0 (Shanghai and later activate by timestamp).
  const london = evmAtLeast(evm, EvmVersion.LONDON) ? { londonBlock: 0 } : {};
  const timeForks = {
    ...(evmAtLeast(evm, EvmVersion.SHANGHAI) ? { shanghaiTime: 0 } : {}),
    ...(evmAtLeast(evm, EvmVersion.CANCUN) ? { cancunTime: 0 } : {}),
  };
  // A free-gas London chain starts at base fee 0 (geth's default first base fee is 1 gwei).
  const zeroBaseFee = input.freeGas && evmAtLeast(evm, EvmVersion.LONDON) ? { baseFeePerGas: '0x0' } : {};
  // Cancun genesis header fields, as Besu's own Cancun QBFT genesis examples write them.
  const cancunHeader = evmAtLeast(evm, EvmVersion.CANCUN) ? { blobGasUsed: '0x0', excessBlobGas: '0x0', parentBeaconBlockRoot: ZERO32 } : {};

  if (client === BlockchainClient.BESU && (consensus === ConsensusProtocol.QBFT || consensus === ConsensusProtocol.IBFT2)) {
    const qbft = consensus === ConsensusProtocol.QBFT;
    return {
      ...base,
      ...zeroBaseFee,
      ...cancunHeader,
      config: {
        chainId,
        ...preLondon,
        ...london,
        ...timeForks,
        ...(input.freeGas && evmAtLeast(evm, EvmVersion.LONDON) ? { zeroBaseFee: true } : {}),
        [qbft ? 'qbft' : 'ibft2']: { blockperiodseconds: period, epochlength: 30000, requesttimeoutseconds: requestTimeout },
      },
      difficulty: '0x1',
      mixHash: BFT_MIX_HASH,
      extraData: qbft ? qbftExtraData(input.validators) : ibft2ExtraData(input.validators),
    };
  }
  if (client === BlockchainClient.GOQUORUM && (consensus === ConsensusProtocol.IBFT || consensus === ConsensusProtocol.QBFT)) {
    const bft = { blockperiodseconds: period, epochlength: 30000, requesttimeoutseconds: requestTimeout, policy: 0, ceil2Nby3Block: 0 };
    return {
      ...base,
      config: {
        chainId,
        ...preLondon,
        isQuorum: true,
        txnSizeLimit: 64,
        ...(consensus === ConsensusProtocol.IBFT ? { ibft: bft } : { qbft: bft }),
      },
      difficulty: '0x1',
      mixHash: BFT_MIX_HASH,
      extraData: consensus === ConsensusProtocol.IBFT ? istanbulExtraData(input.validators) : qbftExtraData(input.validators),
    };
  }
  if (client === BlockchainClient.GOQUORUM && consensus === ConsensusProtocol.RAFT) {
    return {
      ...base,
      config: { chainId, ...preLondon, isQuorum: true, txnSizeLimit: 64 },
      difficulty: '0x0',
      mixHash: ZERO32,
      extraData: ZERO32,
    };
  }
  if (consensus === ConsensusProtocol.CLIQUE) {
    return {
      ...base,
      ...zeroBaseFee,
      config: {
        chainId,
        ...preLondon,
        ...london,
        ...(client === BlockchainClient.GOQUORUM ? { isQuorum: true } : {}),
        clique: { period, epoch: 30000 },
      },
      difficulty: '0x1',
      mixHash: ZERO32,
      extraData: cliqueExtraData(input.validators),
    };
  }
  throw new Error(`buildGenesis: ${client} cannot run ${consensus}; see the compatibility matrix`);
}
