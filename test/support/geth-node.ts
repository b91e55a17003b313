/**
 * A one-signer Clique network on geth 1.13.15 (scripts/ensure-geth.sh), sealing a block a second,
 * with JSON-RPC over HTTP and WebSocket on 127.0.0.1 and the production flags of
 * lib/nodes/client-command.ts (eth,net,web3 APIs; vhosts localhost,127.0.0.1; the signer unlocked).
 * Used by the gate benchmark as the real client behind the gate.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { buildGenesis } from '../../lib/chain/genesis';
import { BlockchainClient, ConsensusProtocol } from '../../lib/chain/protocols';
import { gethBinary, rpc, startGeth } from './geth';
import { freePort } from './moto';

export interface GethNode {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** The unlocked signer's address (what a gate bypass would spend from). */
  readonly signer: string;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Starts the node. `apis` replaces the production API list (eth,net,web3), e.g. to enumerate
 * every method geth has.
 */
export async function startGethNode(apis: readonly string[] = ['eth', 'net', 'web3']): Promise<GethNode> {
  const geth = gethBinary();
  const version = /Version: (\S+)/.exec(execFileSync(geth, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const dir = mkdtempSync(join(tmpdir(), 'bench-geth-'));
  const datadir = join(dir, 'chain');
  const signer = Wallet.createRandom();
  const chainId = 424242;
  // The library's own Clique genesis (32 zero bytes + the signer + 65 zero bytes), London rules.
  const genesis = buildGenesis({
    client: BlockchainClient.GETH,
    consensus: ConsensusProtocol.CLIQUE,
    chainId,
    blockPeriodSeconds: 1,
    validators: [signer.address],
    freeGas: false,
    alloc: { [signer.address]: '0x3635c9adc5dea00000' },
  });
  mkdirSync(datadir, { recursive: true });
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis));
  writeFileSync(join(dir, 'key'), signer.privateKey.slice(2), { mode: 0o600 });
  writeFileSync(join(dir, 'password'), '');
  execFileSync(geth, ['--datadir', datadir, 'init', join(dir, 'genesis.json')], { stdio: 'ignore' });
  execFileSync(geth, ['--datadir', datadir, 'account', 'import', '--password', join(dir, 'password'), join(dir, 'key')], { stdio: 'ignore' });
  const [http, ws, p2p, authrpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const proc = startGeth(geth, [
    `--datadir=${datadir}`,
    `--networkid=${chainId}`,
    '--nodiscover',
    `--port=${p2p}`,
    '--http',
    '--http.addr=127.0.0.1',
    `--http.port=${http}`,
    '--http.vhosts=localhost,127.0.0.1',
    '--ws',
    '--ws.addr=127.0.0.1',
    `--ws.port=${ws}`,
    '--syncmode=full',
    `--http.api=${apis.join(',')}`,
    `--ws.api=${apis.join(',')}`,
    '--mine',
    `--unlock=${signer.address}`,
    `--password=${join(dir, 'password')}`,
    '--allow-insecure-unlock',
    `--miner.etherbase=${signer.address}`,
    `--authrpc.port=${authrpc}`,
    '--ipcdisable',
  ]);
  const rpcUrl = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if (parseInt(await rpc<string>(rpcUrl, 'eth_blockNumber'), 16) >= 1) break;
    } catch {
      // not up yet
    }
    if (proc.process.exitCode !== null || Date.now() > deadline) throw new Error(`geth did not start sealing:\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${ws}`,
    pid: proc.process.pid!,
    signer: signer.address,
    version,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
