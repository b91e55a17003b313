import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BlockchainClient, ChainSpec, ConsensusProtocol, ResolvedChainSpec, resolveChainSpec } from '../../lib';

/** Path of a geth 1.13.15 binary, built from the Go module proxy on first use (~2 min). */
export function gethBinary(): string {
  return execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'ensure-geth.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  }).trim();
}

/**
 * A chain spec resolved as the library resolves a config's, on geth + Clique unless it says
 * otherwise (what lib/local/geth-network.ts runs). Throws with the problems when it is refused.
 */
export function gethChain(spec: ChainSpec): ResolvedChainSpec {
  const { resolved, problems } = resolveChainSpec({ client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, ...spec });
  if (!resolved) throw new Error(`chain spec refused: ${problems.join('; ')}`);
  return resolved;
}

/** One JSON-RPC call over HTTP (throws on a JSON-RPC error). */
export { jsonRpc as rpc } from '../../lib/local/geth-network';
