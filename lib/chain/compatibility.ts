import { BlockchainClient, ConsensusProtocol } from './protocols';

/** How a client x consensus combination stands today. */
export enum SupportLevel {
  /** Supported and maintained. */
  SUPPORTED = 'supported',
  /** Works with a pinned, no-longer-maintained client: allowed, with a synth-time warning. */
  SUPPORTED_WITH_WARNING = 'supported-with-warning',
  /** Deprecated or not for production: refused unless `allowDeprecated` is set (then warned). */
  DEPRECATED = 'deprecated',
  /** The client cannot run this consensus: always refused. */
  UNSUPPORTED = 'unsupported',
}

/** One row of the compatibility matrix. */
export interface CompatibilityEntry {
  readonly client: BlockchainClient;
  readonly consensus: ConsensusProtocol;
  readonly level: SupportLevel;
  /** Why, with the migration path where there is one. Shown in errors and warnings. */
  readonly reason: string;
}

const GOQUORUM_ARCHIVED =
  'GoQuorum was archived in June 2026 (last release 24.4.1, geth 1.10 base, no EIP-1559); it gets no security fixes. Migration path: QBFT on Hyperledger Besu (client "besu", consensus "qbft").';

/**
 * The compatibility matrix, checked against the clients' repositories and docs in Nov 2026
 * (see README "Clients and consensus"). Keep it true: it is what synth enforces.
 */
export const COMPATIBILITY: readonly CompatibilityEntry[] = [
  { client: BlockchainClient.BESU, consensus: ConsensusProtocol.QBFT, level: SupportLevel.SUPPORTED, reason: 'Besu recommends QBFT for private networks.' },
  { client: BlockchainClient.BESU, consensus: ConsensusProtocol.IBFT2, level: SupportLevel.SUPPORTED, reason: 'Besu supports IBFT 2.0; QBFT is preferred for new networks.' },
  { client: BlockchainClient.BESU, consensus: ConsensusProtocol.CLIQUE, level: SupportLevel.DEPRECATED, reason: 'Besu deprecated Clique block production in 25.12 and dropped it from its docs in 2026; use QBFT.' },
  { client: BlockchainClient.BESU, consensus: ConsensusProtocol.IBFT, level: SupportLevel.UNSUPPORTED, reason: 'Besu does not run GoQuorum\'s IBFT (Istanbul); use "qbft" or "ibft2".' },
  { client: BlockchainClient.BESU, consensus: ConsensusProtocol.RAFT, level: SupportLevel.UNSUPPORTED, reason: 'Besu has no Raft consensus; use "qbft".' },
  { client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.IBFT, level: SupportLevel.SUPPORTED_WITH_WARNING, reason: GOQUORUM_ARCHIVED },
  { client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.QBFT, level: SupportLevel.SUPPORTED_WITH_WARNING, reason: GOQUORUM_ARCHIVED },
  { client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.RAFT, level: SupportLevel.DEPRECATED, reason: `GoQuorum's own docs say Raft is not for production. ${GOQUORUM_ARCHIVED}` },
  { client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.CLIQUE, level: SupportLevel.DEPRECATED, reason: `Clique on GoQuorum has no fault tolerance guarantees of BFT. ${GOQUORUM_ARCHIVED}` },
  { client: BlockchainClient.GOQUORUM, consensus: ConsensusProtocol.IBFT2, level: SupportLevel.UNSUPPORTED, reason: 'IBFT 2.0 is Besu\'s protocol; GoQuorum runs "ibft" or "qbft".' },
  { client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, level: SupportLevel.SUPPORTED_WITH_WARNING, reason: 'Geth is proof-of-stake only since 1.14; Clique runs only on the frozen 1.13.15, which gets no fixes. Migration path: QBFT on Besu.' },
  { client: BlockchainClient.GETH, consensus: ConsensusProtocol.QBFT, level: SupportLevel.UNSUPPORTED, reason: 'Geth has no BFT consensus; use client "besu".' },
  { client: BlockchainClient.GETH, consensus: ConsensusProtocol.IBFT2, level: SupportLevel.UNSUPPORTED, reason: 'Geth has no BFT consensus; use client "besu".' },
  { client: BlockchainClient.GETH, consensus: ConsensusProtocol.IBFT, level: SupportLevel.UNSUPPORTED, reason: 'Geth has no BFT consensus; use client "goquorum" or "besu".' },
  { client: BlockchainClient.GETH, consensus: ConsensusProtocol.RAFT, level: SupportLevel.UNSUPPORTED, reason: 'Geth has no Raft consensus.' },
];

/** The matrix row for a combination. */
export function compatibilityOf(client: BlockchainClient, consensus: ConsensusProtocol): CompatibilityEntry {
  const row = COMPATIBILITY.find((e) => e.client === client && e.consensus === consensus);
  if (!row) throw new Error(`no compatibility row for ${client} + ${consensus}`);
  return row;
}
