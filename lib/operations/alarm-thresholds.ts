/**
 * Alarm thresholds derived from an environment's consensus and size (pure; no CDK imports).
 */

/** Consensus families that matter for liveness thresholds (an enum, not a string union: jsii-friendly). */
export enum ConsensusFamily {
  /** QBFT, IBFT, IBFT 2.0: quorum ceil(2n/3). */
  BFT = 'bft',
  /** Raft: a majority of voters. */
  RAFT = 'raft',
  /** Clique: more than half of the signers. */
  CLIQUE = 'clique',
}

/** What an environment looks like, for threshold purposes. */
export interface ThresholdInput {
  /** Consensus family: BFT (QBFT, IBFT, IBFT 2.0), Raft or Clique. */
  readonly consensus: ConsensusFamily;
  /** Number of validators (signers, Raft voters). */
  readonly validators: number;
  /** Target block period in seconds (Raft: the minimum block time). */
  readonly blockPeriodSeconds: number;
}

/** The derived thresholds; every value can be overridden by the user. */
export interface DerivedThresholds {
  /** Validators that must be online for blocks to be produced. */
  readonly quorum: number;
  /** A validator below this many peers can no longer reach quorum with the rest. */
  readonly minPeers: number;
  /** Evaluation window (seconds) in which a healthy chain always advances its height. */
  readonly heightStalledSeconds: number;
  /** Faulty validators the network tolerates. */
  readonly toleratedFaults: number;
}

/**
 * Quorum per consensus: BFT (QBFT/IBFT) needs ceil(2n/3) (Besu's rule; n >= 3f+1), Raft needs a
 * majority, Clique needs more than half of the signers to keep sealing in turn
 * (floor(n/2)+1 signers).
 */
export function quorumOf(consensus: ConsensusFamily, validators: number): number {
  if (!Number.isInteger(validators) || validators < 1) {
    throw new Error(`validators is ${validators}; give the number of validators as a whole number >= 1`);
  }
  switch (consensus) {
    case ConsensusFamily.BFT:
      return Math.ceil((2 * validators) / 3);
    case ConsensusFamily.RAFT:
    case ConsensusFamily.CLIQUE:
      return Math.floor(validators / 2) + 1;
  }
}

/** Derives alarm thresholds from the environment. */
export function deriveThresholds(input: ThresholdInput): DerivedThresholds {
  if (!(input.blockPeriodSeconds > 0)) {
    throw new Error(`blockPeriodSeconds is ${input.blockPeriodSeconds}; use a positive number of seconds`);
  }
  const quorum = quorumOf(input.consensus, input.validators);
  // A validator needs quorum - 1 other validators to be connected to take part.
  const minPeers = Math.max(quorum - 1, 0);
  // BFT round changes back off exponentially; allow several block periods (and never less than a
  // minute, CloudWatch's practical resolution for a pushed metric) before calling it stalled.
  const heightStalledSeconds = Math.max(60, Math.ceil(input.blockPeriodSeconds * 10 / 60) * 60);
  return { quorum, minPeers, heightStalledSeconds, toleratedFaults: input.validators - quorum };
}
