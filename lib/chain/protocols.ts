/** Blockchain clients the library can run. */
export enum BlockchainClient {
  /** Hyperledger Besu (maintained). */
  BESU = 'besu',
  /** GoQuorum (archived June 2026; last release 24.4.1). */
  GOQUORUM = 'goquorum',
  /** go-ethereum, frozen at 1.13.15: the last release that seals Clique blocks. */
  GETH = 'geth',
}

/** Consensus protocols. */
export enum ConsensusProtocol {
  /** QBFT (Besu, GoQuorum): the recommended BFT protocol. */
  QBFT = 'qbft',
  /** IBFT 2.0 (Besu). */
  IBFT2 = 'ibft2',
  /** Istanbul BFT (GoQuorum's IBFT). */
  IBFT = 'ibft',
  /** Raft (GoQuorum; its docs: not for production). */
  RAFT = 'raft',
  /** Clique proof of authority. */
  CLIQUE = 'clique',
}

/** True for the BFT family (n >= 3f+1, quorum ceil(2n/3)). */
export function isBft(consensus: ConsensusProtocol): boolean {
  return consensus === ConsensusProtocol.QBFT || consensus === ConsensusProtocol.IBFT2 || consensus === ConsensusProtocol.IBFT;
}

/** The block gas limit every generated genesis uses unless told otherwise (Besu's free-gas advice). */
export const DEFAULT_GAS_LIMIT = '0x1fffffffffffff';
