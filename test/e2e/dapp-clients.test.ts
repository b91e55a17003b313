import { join } from 'node:path';
import {
  ContractFactory,
  Contract,
  FetchRequest,
  JsonRpcProvider,
  WebSocketProvider as EthersWebSocketProvider,
  Wallet,
  parseEther,
  type TransactionReceipt as EthersReceipt,
} from 'ethers';
import solc from 'solc';
import { createPublicClient, createWalletClient, defineChain, http, webSocket, type Abi, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { Web3, HttpProvider as Web3HttpProvider, WebSocketProvider as Web3WebSocketProvider } from 'web3';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockchainClient, ConsensusProtocol, NodeRole } from '../../lib';
import { LocalGethNetwork } from '../../lib/local/geth-network';
import { LocalEnvironment, startLocalEnvironment } from '../../lib/local/local-environment';
import { gateCommand } from '../support/gate-process';
import { gethBinary, rpc } from '../support/geth';
import { venvBin } from '../support/moto';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go (the gate of every node).
// From zero to a deployed contract, as a dApp developer meets a new environment: the environment
// as `blockchain-tenancy local` runs it (lib/local/local-environment.ts) from an environment config
// whose chain has two signers and one member node: a real geth 1.13.15 Clique network built from
// the library's genesis and client arguments, the real gate process and authorizer in front of
// every node (credentials in Secrets Manager on moto), and ethers v6, web3.js v4 and viem 2 with their DEFAULT fee settings. Each
// library funds a fresh account from the genesis-prefunded account (this test holds its key; the
// chain config only ever sees the address), deploys a contract, calls it, sends a transaction to
// the member node and sees it mined, and subscribes to newHeads over WebSocket, with the
// credential both in the URL and as a header.

const CHAIN_ID = 424242;
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Counter {
  uint256 public count;
  event Incremented(address indexed by, uint256 count);
  constructor(uint256 start) { count = start; }
  function increment() external { count += 1; emit Incremented(msg.sender, count); }
}
`;

interface Compiled {
  readonly abi: Abi;
  readonly bytecode: Hex;
  readonly evmVersion: string;
}

function compile(evmVersion?: string): Compiled {
  const input = {
    language: 'Solidity',
    sources: { 'Counter.sol': { content: SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, ...(evmVersion ? { evmVersion } : {}), outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'metadata'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: Abi; metadata: string; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const c = out.contracts['Counter.sol'].Counter;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, evmVersion: (JSON.parse(c.metadata) as { settings: { evmVersion: string } }).settings.evmVersion };
}

describe('dApp clients with default fee settings on a geth Clique environment, through the gate', () => {
  // The genesis-prefunded account: its key lives only in this test; the chain config gets the address.
  const funder = new Wallet(generatePrivateKey());
  let local: LocalEnvironment;
  let net: LocalGethNetwork;
  let cred: { id: string; secret: string };
  let london: Compiled;
  // What the gates, the authorizer and the nodes wrote: everything, not only the log tails.
  const logs: string[] = [];
  const nodeOutput: string[] = [];
  /** The gate of a node, e.g. http://127.0.0.1:PORT (no credentials). */
  const gateUrl = (nodeId: string) => local.nodes.find((n) => n.id === nodeId)!.httpUrl.replace(/\/$/, '');
  const wsUrlOf = (nodeId: string) => gateUrl(nodeId).replace(/^http/, 'ws') + '/ws';
  const env = {
    gateUrl,
    logs,
    /** `http://ID:SECRET@127.0.0.1:PORT/` (or ws://.../ws): the URL form users write. */
    urlWithCredential: (nodeId: string, c: typeof cred, scheme: 'http' | 'ws' = 'http') =>
      `${scheme}://${c.id}:${c.secret}@${new URL(gateUrl(nodeId)).host}${scheme === 'ws' ? '/ws' : '/'}`,
    /** The `Authorization` header value of a credential (the header form). */
    authorization: (c: typeof cred) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`,
  };

  beforeAll(async () => {
    local = await startLocalEnvironment({
      tenantId: 'acme',
      environmentId: 'dev',
      environment: {
        id: 'dev',
        cidr: '10.11.0.0/16',
        chain: {
          client: BlockchainClient.GETH,
          consensus: ConsensusProtocol.CLIQUE,
          chainId: CHAIN_ID,
          blockPeriodSeconds: 1,
          members: [{ id: 'acme' }],
          prefundedAccounts: [{ address: funder.address.toLowerCase(), balance: parseEther('1000000').toString() }],
          nodes: [
            { id: 'signer-1', member: 'acme', role: NodeRole.VALIDATOR },
            { id: 'signer-2', member: 'acme', role: NodeRole.VALIDATOR },
            { id: 'member-1', member: 'acme', role: NodeRole.MEMBER },
          ],
        },
      },
      geth: gethBinary(),
      motoServer: join(venvBin(), 'moto_server'),
      log: (e) => logs.push(JSON.stringify(e)),
      onOutput: (name, text) => (name.startsWith('geth ') ? nodeOutput : logs).push(text),
      gateCommand: gateCommand(),
    });
    net = local.network;
    // Issued as the issuer does it (the plaintext secret is returned once).
    const created = await local.credentials.create({ memberId: 'acme', description: 'e2e dApp' });
    cred = { id: created.credential.id, secret: created.secret };
    // solc 0.8.37 targets Osaka by default; geth 1.13.15 seals Clique only up to London (README
    // "Clients and consensus"), so contracts for this chain are compiled for London.
    london = compile('london');
  }, 600_000);

  afterAll(async () => {
    await local?.stop();
  });

  it('the chain runs London rules, funds the configured account, and solc defaults target a newer EVM', async () => {
    expect(net.chain.evmVersion).toBe('london');
    expect(BigInt(await rpc<string>(net.nodes[0].rpcUrl, 'eth_getBalance', [funder.address, 'latest']))).toBe(parseEther('1000000'));
    expect(compile().evmVersion).toBe('osaka');
    expect(london.evmVersion).toBe('london');
  });

  it('solc default output (PUSH0 and later opcodes) is refused by the London chain: why the test pins "london"', async () => {
    const provider = new JsonRpcProvider(env.urlWithCredential('signer-1', cred), undefined, { pollingInterval: 500 });
    const dev = await funded(provider);
    const osaka = compile();
    const factory = new ContractFactory(osaka.abi as never, osaka.bytecode, dev);
    // The init code's first PUSH0 is an invalid opcode before Shanghai: estimation or execution fails.
    await expect(factory.deploy(1).then((c) => c.waitForDeployment())).rejects.toThrow();
    provider.destroy();
  }, 120_000);

  /** A fresh account funded from the prefunded account with ethers' defaults. */
  async function funded(provider: JsonRpcProvider): Promise<Wallet> {
    const dev = new Wallet(generatePrivateKey(), provider);
    const receipt = await (await funder.connect(provider).sendTransaction({ to: dev.address, value: parseEther('10') })).wait();
    expect(receipt?.status).toBe(1);
    return dev;
  }

  it('ethers v6: URL credentials for HTTP, fund, deploy, call; header credentials on the member node; newHeads both ways', async () => {
    // The URL form (pollingInterval is not a fee setting; it only keeps the test short).
    const provider = new JsonRpcProvider(env.urlWithCredential('signer-1', cred), undefined, { pollingInterval: 500 });
    const dev = await funded(provider);
    const counter = (await new ContractFactory(london.abi as never, london.bytecode, dev).deploy(41)) as Contract;
    await counter.waitForDeployment();
    const incremented = (await (await counter.getFunction('increment')()).wait()) as EthersReceipt;
    expect(incremented.status).toBe(1);
    expect(await counter.getFunction('count')()).toBe(42n);

    // The header form, on the member (non-validator) node: the transaction must be mined.
    const request = new FetchRequest(env.gateUrl('member-1') + '/');
    request.setHeader('Authorization', env.authorization(cred));
    const member = new JsonRpcProvider(request, undefined, { pollingInterval: 500 });
    const sent = await dev.connect(member).sendTransaction({ to: funder.address, value: 1n });
    const mined = await sent.wait(1, 60_000);
    expect(mined?.status).toBe(1);
    expect((await rpc<{ blockHash: string }>(net.node('signer-1').rpcUrl, 'eth_getTransactionReceipt', [sent.hash])).blockHash).toBe(mined?.blockHash);

    // newHeads over WebSocket: URL form, then header form.
    for (const ws of [
      new EthersWebSocketProvider(env.urlWithCredential('member-1', cred, 'ws')),
      new EthersWebSocketProvider(() => new WebSocket(wsUrlOf('signer-2'), { headers: { Authorization: env.authorization(cred) } })),
    ]) {
      const heads: number[] = [];
      await ws.on('block', (n: number) => heads.push(n));
      await waitFor(() => heads.length >= 2, 'two newHeads over WebSocket (ethers)');
      await ws.destroy();
    }
    provider.destroy();
    member.destroy();
  }, 180_000);

  it('web3.js v4: URL credentials for HTTP, fund, deploy, call; header credentials on the member node; newHeads both ways', async () => {
    const web3 = new Web3(env.urlWithCredential('signer-1', cred));
    web3.eth.accounts.wallet.add(funder.privateKey);
    const dev = web3.eth.accounts.wallet.add(generatePrivateKey()).get(1)!;
    // web3's default: an EIP-1559 transaction with its 2.5 gwei default tip (the chain's floor is 1 wei).
    const funding = await web3.eth.sendTransaction({ from: funder.address, to: dev.address, value: parseEther('10') });
    expect(Number(funding.status)).toBe(1);
    expect(Number(funding.type)).toBe(2);
    const counter = await new web3.eth.Contract(london.abi as never).deploy({ data: london.bytecode, arguments: [41] }).send({ from: dev.address });
    const call = await counter.methods.increment().send({ from: dev.address });
    expect(Number(call.status)).toBe(1);
    expect(Number(await counter.methods.count().call())).toBe(42);

    // The header form, on the member node.
    const member = new Web3(new Web3HttpProvider(env.gateUrl('member-1') + '/', { providerOptions: { headers: { Authorization: env.authorization(cred) } } }));
    member.eth.accounts.wallet.add(dev.privateKey);
    const sent = await member.eth.sendTransaction({ from: dev.address, to: funder.address, value: 1n });
    expect(Number(sent.status)).toBe(1);
    expect((await rpc<{ blockHash: string }>(net.node('signer-2').rpcUrl, 'eth_getTransactionReceipt', [sent.transactionHash])).blockHash).toBe(sent.blockHash);

    // newHeads over WebSocket: URL form, then header form.
    for (const provider of [
      new Web3WebSocketProvider(env.urlWithCredential('member-1', cred, 'ws')),
      new Web3WebSocketProvider(wsUrlOf('signer-2'), { headers: { Authorization: env.authorization(cred) } }),
    ]) {
      const ws = new Web3(provider);
      const sub = await ws.eth.subscribe('newBlockHeaders');
      const heads: bigint[] = [];
      sub.on('data', (h) => {
        heads.push(BigInt(h.number ?? 0));
      });
      await waitFor(() => heads.length >= 2, 'two newHeads over WebSocket (web3)');
      await sub.unsubscribe();
      provider.disconnect();
    }
  }, 180_000);

  it('viem 2: URL credentials for HTTP, fund, deploy, call; header credentials on the member node; newHeads over WebSocket', async () => {
    const url = env.urlWithCredential('signer-1', cred);
    const chain = defineChain({ id: CHAIN_ID, name: 'acme-dev', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [env.gateUrl('signer-1')] } } });
    // pollingInterval is not a fee setting; it only keeps the test short.
    const publicClient = createPublicClient({ chain, transport: http(url), pollingInterval: 500 });
    const funderWallet = createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(funder.privateKey as Hex) });
    const devAccount = privateKeyToAccount(generatePrivateKey());
    const dev = createWalletClient({ chain, transport: http(url), account: devAccount });
    const fundHash = await funderWallet.sendTransaction({ to: devAccount.address, value: parseEther('10') });
    expect((await publicClient.waitForTransactionReceipt({ hash: fundHash })).status).toBe('success');
    const deployHash = await dev.deployContract({ abi: london.abi, bytecode: london.bytecode, args: [41n] });
    const deployed = await publicClient.waitForTransactionReceipt({ hash: deployHash });
    expect(deployed.status).toBe('success');
    const address = deployed.contractAddress!;
    const callHash = await dev.writeContract({ address, abi: london.abi, functionName: 'increment' });
    expect((await publicClient.waitForTransactionReceipt({ hash: callHash })).status).toBe('success');
    expect(await publicClient.readContract({ address, abi: london.abi, functionName: 'count' })).toBe(42n);

    // The header form, on the member node.
    const memberTransport = http(env.gateUrl('member-1'), { fetchOptions: { headers: { Authorization: env.authorization(cred) } } });
    const memberWallet = createWalletClient({ chain, transport: memberTransport, account: devAccount });
    const memberPublic = createPublicClient({ chain, transport: memberTransport, pollingInterval: 500 });
    const sentHash = await memberWallet.sendTransaction({ to: funder.address as Hex, value: 1n });
    const mined = await memberPublic.waitForTransactionReceipt({ hash: sentHash, timeout: 60_000 });
    expect(mined.status).toBe('success');
    expect((await rpc<{ blockHash: string }>(net.node('signer-1').rpcUrl, 'eth_getTransactionReceipt', [sentHash])).blockHash).toBe(mined.blockHash);

    // newHeads over WebSocket (viem's webSocket transport takes no headers: the URL form).
    const wsClient = createPublicClient({ chain, transport: webSocket(env.urlWithCredential('member-1', cred, 'ws')) });
    const heads: bigint[] = [];
    const unwatch = wsClient.watchBlockNumber({ onBlockNumber: (n) => {
        heads.push(n);
      } });
    await waitFor(() => heads.length >= 2, 'two newHeads over WebSocket (viem)');
    unwatch();
    const socket = await (wsClient.transport as unknown as { getRpcClient(): Promise<{ close(): void }> }).getRpcClient();
    socket.close();
  }, 180_000);

  it('the secret never appears in what the gates and the authorizer logged, nor in the nodes\' logs', () => {
    expect(env.logs.length).toBeGreaterThan(0);
    expect(env.logs.join('\n')).not.toContain(cred.secret);
    expect(net.logs()).not.toContain(cred.secret);
    expect(net.logs()).not.toMatch(/unauthorized signer/i);
    expect(nodeOutput.join('')).not.toContain(cred.secret);
    expect(nodeOutput.join('')).not.toMatch(/unauthorized signer/i);
  });
});

async function waitFor(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
