/**
 * One tenant environment on this machine, wired as in AWS: the environment's chain on geth
 * 1.13.15 (lib/local/geth-network.ts), the real node gate per node as its own process
 * (lambda/node-gate/index.ts, unchanged: it invokes "its authorizer Lambda" through the real
 * Lambda SDK client, here pointed at lib/local/local-lambda.ts), the real authorizer and issuer
 * handlers on a local Secrets Manager (moto), and the management API handler over HTTP with SigV4
 * (lib/local/management-server.ts) reading the environment's registration from a local SSM.
 * Same credentials, URLs (per node: `/` for HTTP, `/ws` for WebSocket) and refusals as in AWS.
 *
 * Runtime code: it loads argon2 and AWS SDK clients and starts processes. lib/index.ts never
 * imports it; `blockchain-tenancy local` loads it on demand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import { Wallet, parseEther, toBeHex } from 'ethers';
import { createAuthorizer, RequestAuthorizerEvent } from '../../lambda/authorizer/handler';
import { IssuerRequest, IssuerResponse, handleIssuer } from '../../lambda/issuer/handler';
import { ChainSpec, ResolvedChainSpec, resolveChainSpec } from '../chain/chain-spec';
import { BlockchainClient, ConsensusProtocol } from '../chain/protocols';
import { EnvironmentConfig, environmentStackName } from '../config/tenant-config';
import { credentialSecretPrefix } from '../contracts/credential-format';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from '../contracts/registration-format';
import { LocalGethNetwork, jsonRpc, startGethNetwork } from './geth-network';
import { LocalLambda, serveLocalLambda } from './local-lambda';
import { prebuiltAssetDir } from '../assets/prebuilt-assets';
import { LocalControlPlane, createLocalControlPlane } from './control-plane';
import { ManagementServer, serveManagementApi } from './management-server';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, startMotoServer } from './moto-server';
import { ManagedProcess, ProcessGroup, freePort, waitUntil } from './processes';

/** The chain that runs locally for an environment, and why it differs from AWS when it does. */
export interface LocalChain {
  readonly chain: ResolvedChainSpec;
  /** Set when the environment's client does not run here and geth Clique stands in for it. */
  readonly substitution?: string;
}

/**
 * The local chain of an environment: its own chain when its client is geth (Clique); otherwise
 * the same nodes (ids, members, roles), chain id and block period on geth 1.13.15 with Clique,
 * since Besu and GoQuorum are not available here. Throws with the config's problems when the
 * chain is invalid.
 */
export function localChainFor(env: EnvironmentConfig): LocalChain {
  const spec: ChainSpec = env.chain ?? {};
  const own = resolveChainSpec(spec);
  if (!own.resolved) throw new Error(`the environment's chain is invalid:\n  - ${own.problems.join('\n  - ')}`);
  if (own.resolved.client === BlockchainClient.GETH) return { chain: own.resolved };
  const r = own.resolved;
  const base: ChainSpec = {
    client: BlockchainClient.GETH,
    consensus: ConsensusProtocol.CLIQUE,
    chainId: r.chainId,
    blockPeriodSeconds: r.blockPeriodSeconds,
    freeGas: r.freeGas,
    members: r.members,
    nodes: r.nodes.map((n) => ({ id: n.id, member: n.member, role: n.role })),
  };
  const stand = resolveChainSpec(base);
  if (!stand.resolved) throw new Error(`no local stand-in chain for this environment:\n  - ${stand.problems.join('\n  - ')}`);
  return {
    chain: stand.resolved,
    substitution:
      `the environment runs ${r.client} + ${r.consensus} in AWS, which does not run on this machine; locally its ${r.nodes.length} node(s) ` +
      `(same ids, members and roles), chain id ${r.chainId} and ${r.blockPeriodSeconds} s blocks run on geth 1.13.15 with Clique instead. ` +
      `Credentials, URLs and refusals are the same as in AWS; genesis, consensus, fork rules and gas pricing are geth's.`,
  };
}

export interface LocalEnvironmentOptions {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly environment: EnvironmentConfig;
  /** Path of a geth 1.13.15 binary. */
  readonly geth: string;
  /** Path of moto's `moto_server`. */
  readonly motoServer: string;
  /** Decision and request log lines of the authorizer, issuer and management API (never secrets). */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Start-up bound for each process. @default 90 s */
  readonly startTimeoutMs?: number;
  /** Aborts start-up: everything started so far is stopped and startLocalEnvironment rejects. */
  readonly signal?: AbortSignal;
  /**
   * Everything each process (moto, geth per node, gate per node) writes, as it writes it, with the
   * process's name. @default - kept only as each process's log tail
   */
  readonly onOutput?: (processName: string, text: string) => void;
  /**
   * Serve the control plane's lifecycle routes too (its table and bus on the local moto). Nothing
   * deploys locally: deployments stay queued until `controlPlane.recorder` is called with them
   * (handleRecorder), as the engine would. @default false (the routes answer ControlPlaneDisabled)
   */
  readonly controlPlane?: boolean;
  /**
   * The command that runs each node's gate (it gets the gate's environment, localGateEnvironment).
   * The gate contract tests pass the implementation they test (GATE_IMPL). @default - this
   * compiled gate on Linux amd64/arm64 (as on the nodes), lambda/node-gate elsewhere
   */
  readonly gateCommand?: { readonly command: string; readonly args: readonly string[] };
}

/** One node as a dApp reaches it. */
export interface LocalNodeEndpoint {
  readonly id: string;
  readonly member: string;
  readonly role: string;
  /** Through the gate (a credential is required), e.g. http://127.0.0.1:41234/ */
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly gatePid: number;
  readonly clientPid: number;
}

export interface LocalEnvironment {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly chain: LocalChain;
  readonly nodes: readonly LocalNodeEndpoint[];
  /**
   * The chain's clients as the gates reach them (their own JSON-RPC on 127.0.0.1, the genesis,
   * their log tails): for diagnostics and tests, never handed to a dApp.
   */
  readonly network: LocalGethNetwork;
  /** The management API base URL (BLOCKCHAIN_TENANCY_ENDPOINT). */
  readonly managementEndpoint: string;
  /** The local control plane, when {@link LocalEnvironmentOptions.controlPlane} is set. */
  readonly controlPlane?: LocalControlPlane;
  /** The key pair that signs management API requests (local only; SigV4 is verified). */
  readonly apiCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly region: string };
  /** A genesis-funded account for deploying contracts (local chain only). */
  readonly developerAccount: { readonly address: string; readonly privateKey: string };
  /** The environment's credential service (the issuer's), on the local Secrets Manager. */
  readonly credentials: CredentialService;
  /** Every process started (moto, geth per node, gate per node). */
  readonly processes: readonly ManagedProcess[];
  /** The temporary directory (chain data); removed by stop(). */
  readonly dir: string;
  /** Called when a process dies on its own (the environment is then incomplete). */
  onProcessExit(fn: (name: string, how: string, log: string) => void): void;
  /** Stops every process and server and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** What a node's gate needs to run on this machine. */
export interface LocalGateSettings {
  readonly nodeId: string;
  /** The authorizer function's name (served by lib/local/local-lambda.ts). */
  readonly authorizerFunction: string;
  /** The Lambda Invoke endpoint (AWS_ENDPOINT_URL_LAMBDA). */
  readonly lambdaEndpoint: string;
  readonly port: number;
  /** The client's JSON-RPC over HTTP and WebSocket. */
  readonly upstreamHttp: string;
  readonly upstreamWs: string;
}

/**
 * The gate's environment on this machine: the node's gate.env (NODE_ID, AUTHORIZER_FUNCTION,
 * GATE_PORT, UPSTREAM_*), bound to 127.0.0.1, with the local AWS credentials and its Lambda
 * client pointed at the local Invoke endpoint. Nothing else of this process's environment.
 */
export function localGateEnvironment(s: LocalGateSettings): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ID: s.nodeId,
    AUTHORIZER_FUNCTION: s.authorizerFunction,
    GATE_PORT: String(s.port),
    GATE_HOST: '127.0.0.1',
    UPSTREAM_HTTP: s.upstreamHttp,
    UPSTREAM_WS: s.upstreamWs,
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_LAMBDA: s.lambdaEndpoint,
  };
}

/**
 * The gate each local node runs: on Linux amd64/arm64 the compiled gate the nodes run in AWS (ADR
 * 10; the asset dist/assets/node-gate, built from gate/ when missing or stale); elsewhere the
 * Node.js implementation of the same contract (lambda/node-gate), run from its TypeScript source.
 */
function gateEntry(): { command: string; args: string[]; cwd: string } {
  const root = join(__dirname, '..', '..');
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (process.platform === 'linux' && arch) {
    return { command: join(prebuiltAssetDir('node-gate'), `linux-${arch}`, 'node-gate'), args: [], cwd: process.cwd() };
  }
  const ext = extname(__filename);
  const entry = join(root, 'lambda', 'node-gate', `index${ext}`);
  return { command: process.execPath, args: ext === '.ts' ? ['--import', 'tsx', entry] : [entry], cwd: ext === '.ts' ? root : process.cwd() };
}

/** Starts the environment. On any failure, everything started so far is stopped before it throws. */
export async function startLocalEnvironment(opts: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const { tenantId, environmentId } = opts;
  const local = localChainFor(opts.environment);
  const timeout = opts.startTimeoutMs ?? 90_000;
  const log = opts.log ?? (() => undefined);
  const processes = new ProcessGroup();
  const dir = mkdtempSync(join(tmpdir(), 'blockchain-tenancy-local-'));
  let lambda: LocalLambda | undefined;
  let api: ManagementServer | undefined;
  let stopped: Promise<void> | undefined;
  let exitListener: ((name: string, how: string, log: string) => void) | undefined;
  processes.onUnexpectedExit((p, code, signal) => exitListener?.(p.name, code !== null ? `exit code ${code}` : `signal ${signal}`, p.log()));
  const onOutput = opts.onOutput;
  if (onOutput) processes.onOutput((p, text) => onOutput(p.name, text));
  const stop = () =>
    (stopped ??= (async () => {
      await processes.stopAll();
      await Promise.all([lambda?.close(), api?.close()]);
      rmSync(dir, { recursive: true, force: true });
    })());
  // An abort stops the processes: whatever start-up waits for then fails at once.
  const onAbort = () => void processes.stopAll();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new Error('start-up aborted');
    const moto = await startMotoServer(opts.motoServer, processes, timeout);
    const sm = new SecretsManagerClient(moto.clientConfig);
    const credentialsConfig = opts.environment.credentials;
    const service = new CredentialService({
      secretsManager: sm,
      tenantId,
      environmentId,
      ...(credentialsConfig?.defaultLifetimeDays !== undefined ? { defaultLifetimeDays: credentialsConfig.defaultLifetimeDays } : {}),
      ...(credentialsConfig?.maxLifetimeDays !== undefined ? { maxLifetimeDays: credentialsConfig.maxLifetimeDays } : {}),
    });
    const nodeMembers = Object.fromEntries(local.chain.nodes.map((n) => [n.id, n.member]));
    const authorizer = createAuthorizer(service, { nodeMembers, scope: { tenant: tenantId, environment: environmentId }, log });
    const authorizerName = `blockchain-tenancy-${tenantId}-${environmentId}-authorizer`;
    const issuerName = `blockchain-tenancy-${tenantId}-${environmentId}-issuer`;
    lambda = await serveLocalLambda({
      [authorizerName]: (event) => authorizer.handle(event as RequestAuthorizerEvent),
      [issuerName]: async (request) => {
        const response = await handleIssuer(service, request);
        log({ msg: 'issuer', action: (request as { action?: unknown })?.action, ok: response.ok });
        return response;
      },
    });

    // The registration the environment stack writes in AWS, in the local SSM.
    const ssm = new SSMClient(moto.clientConfig);
    const registration: EnvironmentRegistrationValue = {
      tenantId,
      environmentId,
      stackName: environmentStackName(tenantId, environmentId),
      region: LOCAL_AWS_REGION,
      account: '000000000000',
      vpcId: 'local',
      kmsKeyArn: 'local',
      credentialSecretPrefix: credentialSecretPrefix(tenantId, environmentId),
      issuerFunctionArn: `arn:aws:lambda:${LOCAL_AWS_REGION}:000000000000:function:${issuerName}`,
      nodes: nodeMembers,
    };
    await ssm.send(new PutParameterCommand({ Name: `${REGISTRATION_PREFIX}${tenantId}/${environmentId}`, Type: 'String', Value: JSON.stringify(registration) }));
    const lambdaClient = new LambdaClient({ ...moto.clientConfig, endpoint: lambda.endpoint });
    const apiCredentials = { accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url'), region: LOCAL_AWS_REGION };
    const controlPlane = opts.controlPlane ? await createLocalControlPlane(moto.clientConfig) : undefined;
    api = await serveManagementApi({
      credentials: apiCredentials,
      region: LOCAL_AWS_REGION,
      onRequest: (e) => log({ msg: 'management api', ...e }),
      deps: {
        ssm,
        ec2: async () => new EC2Client(moto.clientConfig),
        autoscaling: async () => new AutoScalingClient(moto.clientConfig),
        log,
        ...(controlPlane ? { controlPlane: controlPlane.deps } : {}),
        // As lambda/management/index.ts does it: invoke the environment's issuer function.
        invokeIssuer: async (functionArn: string, request: IssuerRequest): Promise<IssuerResponse> => {
          const out = await lambdaClient.send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(JSON.stringify(request)) }));
          if (out.FunctionError || !out.Payload) throw new Error('issuer failed');
          return JSON.parse(Buffer.from(out.Payload).toString('utf8')) as IssuerResponse;
        },
      },
    });

    // The chain, with a developer account funded in the local genesis.
    const developer = Wallet.createRandom();
    const network = await startGethNetwork({
      geth: opts.geth,
      chain: local.chain,
      dir,
      processes,
      alloc: { [developer.address]: toBeHex(parseEther('1000000')) },
      startTimeoutMs: timeout,
    });

    // The real gate per node, as its own process, configured as the node's gate.env.
    const entry = opts.gateCommand ? { command: opts.gateCommand.command, args: [...opts.gateCommand.args], cwd: process.cwd() } : gateEntry();
    const nodes: LocalNodeEndpoint[] = [];
    for (const g of network.nodes) {
      const port = await freePort();
      const gate = processes.start(`gate ${g.id}`, entry.command, entry.args, {
        cwd: entry.cwd,
        env: localGateEnvironment({
          nodeId: g.id,
          authorizerFunction: authorizerName,
          lambdaEndpoint: lambda.endpoint,
          port,
          upstreamHttp: g.rpcUrl,
          upstreamWs: g.wsUrl,
        }),
      });
      nodes.push({ id: g.id, member: g.member, role: g.role, httpUrl: `http://127.0.0.1:${port}/`, wsUrl: `ws://127.0.0.1:${port}/ws`, gatePid: gate.pid, clientPid: g.process.pid });
      // Up when it refuses an unauthenticated call with 401 (it answers only after it listens).
      await waitUntil(`the gate of ${g.id} on port ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) })).status === 401, timeout, gate);
    }
    await jsonRpc<string>(network.nodes[0].rpcUrl, 'eth_blockNumber');
    if (opts.signal?.aborted) throw new Error('start-up aborted');
    opts.signal?.removeEventListener('abort', onAbort);
    return {
      tenantId,
      environmentId,
      chain: local,
      nodes,
      network,
      managementEndpoint: api.endpoint,
      ...(controlPlane ? { controlPlane } : {}),
      apiCredentials,
      developerAccount: { address: developer.address, privateKey: developer.privateKey },
      credentials: service,
      processes: processes.processes,
      dir,
      onProcessExit: (fn) => {
        exitListener = fn;
      },
      stop,
    };
  } catch (e) {
    opts.signal?.removeEventListener('abort', onAbort);
    await stop();
    throw opts.signal?.aborted ? new Error('start-up aborted') : e;
  }
}
