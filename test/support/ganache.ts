import ganache from 'ganache';
import { freePort } from './moto';

/** A ganache 7 node on 127.0.0.1 (HTTP and WebSocket JSON-RPC on one port). */
export interface LocalNode {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

/** Starts ganache, mining a block every `blockTimeSeconds` (default 1; 0 = on each transaction). */
export async function startGanache(blockTimeSeconds = 1): Promise<LocalNode> {
  return startGanacheOn(await freePort(), blockTimeSeconds);
}

/** Starts ganache on a given port. */
export async function startGanacheOn(port: number, blockTimeSeconds = 1): Promise<LocalNode> {
  const options = { logging: { quiet: true }, miner: { blockTime: blockTimeSeconds }, chain: { chainId: 1337 } };
  // ganache's bundled typings resolve ServerOptions to `undefined` under TS 5.9; the options are
  // the documented ones (ganache README, "Startup Options").
  const server = ganache.server(options as unknown as undefined);
  await server.listen(port, '127.0.0.1');
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    stop: () => server.close(),
  };
}
