import { BlockchainClient, ConsensusProtocol } from './protocols';

/**
 * The hard fork a chain runs from block 0, named as Solidity's `evmVersion` names it (compile
 * contracts for the same or an older version).
 */
export enum EvmVersion {
  /** Berlin (no EIP-1559 fee market, no BASEFEE opcode). */
  BERLIN = 'berlin',
  /** London: EIP-1559 fee market and the BASEFEE opcode. */
  LONDON = 'london',
  /** Shanghai: PUSH0 (solc's default output needs it since 0.8.20). */
  SHANGHAI = 'shanghai',
  /** Cancun: transient storage (TLOAD/TSTORE), MCOPY, blob transactions. */
  CANCUN = 'cancun',
  /** Prague: EIP-7702 set-code transactions, BLS precompiles, system contracts. */
  PRAGUE = 'prague',
  /** Osaka: CLZ, per-transaction gas cap, secp256r1 precompile. */
  OSAKA = 'osaka',
}

/** Hard forks from oldest to newest. */
export const EVM_VERSIONS: readonly EvmVersion[] = [
  EvmVersion.BERLIN,
  EvmVersion.LONDON,
  EvmVersion.SHANGHAI,
  EvmVersion.CANCUN,
  EvmVersion.PRAGUE,
  EvmVersion.OSAKA,
];

/** True when `a` is `b` or a later fork. */
export function evmAtLeast(a: EvmVersion, b: EvmVersion): boolean {
  return EVM_VERSIONS.indexOf(a) >= EVM_VERSIONS.indexOf(b);
}

/** The newest fork a client runs with a consensus protocol, and why it stops there. */
export interface EvmCeiling {
  readonly newest: EvmVersion;
  /** Why nothing newer: shown when a newer fork is requested. */
  readonly reason: string;
}

/**
 * The newest hard fork each client runs with its consensus (checked Nov 2026):
 * - geth 1.13.15 + Clique: London. Its Clique engine refuses Shanghai and later ("clique does not
 *   support shanghai fork", consensus/clique/clique.go), and geth 1.14+ cannot seal Clique at all.
 * - GoQuorum 24.4.1: Berlin. It is a geth 1.10 fork whose private-network features (free gas with
 *   `isQuorum`, privacy) predate EIP-1559; it was archived without a London-capable release.
 * - Besu 26.8 + QBFT / IBFT 2.0: Cancun (Shanghai and Cancun run with BFT consensus, with a zero
 *   base fee). Prague and later need the EIP-2935/7002/7251 system contracts in the genesis of a
 *   BFT chain (besu-eth/besu#9409), which this library does not write yet.
 * - Besu + Clique (deprecated): London.
 */
export function evmCeiling(client: BlockchainClient, consensus: ConsensusProtocol): EvmCeiling {
  if (client === BlockchainClient.GETH) {
    return {
      newest: EvmVersion.LONDON,
      reason:
        'geth 1.13.15 seals Clique blocks only up to London (its Clique engine refuses Shanghai and later, and geth 1.14+ cannot seal Clique at all); compile contracts with evmVersion "london", or run client "besu" with consensus "qbft" for a newer EVM',
    };
  }
  if (client === BlockchainClient.GOQUORUM) {
    return {
      newest: EvmVersion.BERLIN,
      reason:
        'GoQuorum 24.4.1 (archived, geth 1.10 base) runs Berlin rules without EIP-1559; compile contracts with evmVersion "berlin", or migrate to client "besu" with consensus "qbft" for a newer EVM',
    };
  }
  if (consensus === ConsensusProtocol.CLIQUE) {
    return { newest: EvmVersion.LONDON, reason: 'Besu + Clique is deprecated and this library stops it at London; use consensus "qbft" for a newer EVM' };
  }
  return {
    newest: EvmVersion.CANCUN,
    reason:
      'Prague and later need the EIP-2935/7002/7251 system contracts in the genesis of a QBFT/IBFT 2.0 chain (besu-eth/besu#9409), which this library does not write yet; use "cancun" (the default) and compile contracts with evmVersion "cancun"',
  };
}
