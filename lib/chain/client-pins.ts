import { BlockchainClient } from './protocols';

/**
 * Client versions, pinned in ONE place. Images are pulled from the environment account's private
 * ECR (see README "Client images"); override per environment with `chain.clientImage`.
 */
export const CLIENT_PINS: Readonly<Record<BlockchainClient, { readonly repository: string; readonly tag: string; readonly upstream: string }>> = {
  [BlockchainClient.BESU]: { repository: 'blockchain-tenancy/besu', tag: '26.8.0', upstream: 'hyperledger/besu:26.8.0' },
  [BlockchainClient.GOQUORUM]: { repository: 'blockchain-tenancy/quorum', tag: '24.4.1', upstream: 'quorumengineering/quorum:24.4.1' },
  [BlockchainClient.GETH]: { repository: 'blockchain-tenancy/geth', tag: 'v1.13.15', upstream: 'ethereum/client-go:v1.13.15' },
};
