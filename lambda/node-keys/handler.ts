import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { buildGenesis } from '../../lib/chain/genesis';
import { enodeUrl, generateNodeKey, nodeIdentity } from '../../lib/chain/keys';
import { ChainManifest, chainManifestSecretName, nodeKeySecretName, nodeSecretPrefix } from '../../lib/contracts/node-secrets';
import { EvmVersion } from '../../lib/chain/evm-version';
import { BlockchainClient, ConsensusProtocol } from '../../lib/chain/protocols';

/** Properties the CDK construct passes (all strings/booleans as CloudFormation sends them). */
export interface NodeKeysProperties {
  readonly TenantId: string;
  readonly EnvironmentId: string;
  readonly KmsKeyId: string;
  readonly Client: string;
  readonly Consensus: string;
  readonly ChainId: string | number;
  readonly BlockPeriodSeconds: string | number;
  readonly FreeGas: string | boolean;
  /** Hard fork from block 0 (absent: the newest the client runs, see lib/chain/evm-version.ts). */
  readonly EvmVersion?: string;
  /** Genesis-funded accounts (public: addresses and balances in wei). */
  readonly PrefundedAccounts?: readonly { readonly Address: string; readonly Balance: string }[];
  readonly P2pPort?: string | number;
  readonly RaftPort?: string | number;
  readonly Nodes: readonly { readonly Id: string; readonly Ip: string; readonly Validator: string | boolean }[];
}

/** A CloudFormation custom resource event (the fields this handler uses). */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: NodeKeysProperties & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** What the handler returns: only public data. */
export interface NodeKeysResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly ManifestSecretName: string; readonly ValidatorAddresses: string; readonly NodeCount: string };
}

const bool = (v: string | boolean | undefined) => v === true || v === 'true';

/**
 * Creates (once) a secp256k1 key per node in Secrets Manager, under the environment's KMS key,
 * and writes the public chain manifest (genesis + static nodes). Idempotent: existing keys are
 * never regenerated (that would fork the chain) and an existing genesis is never changed; new
 * nodes get keys and join the static-nodes list. Delete keeps every secret (RETAIN).
 */
export async function handleNodeKeys(event: CustomResourceEvent, sm: SecretsManagerClient): Promise<NodeKeysResult> {
  const p = event.ResourceProperties;
  const physicalId = nodeSecretPrefix(p.TenantId, p.EnvironmentId);
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId, Data: { ManifestSecretName: '', ValidatorAddresses: '', NodeCount: '0' } };
  }
  const tags = [
    { Key: 'blockchain-tenancy:tenant', Value: p.TenantId },
    { Key: 'blockchain-tenancy:environment', Value: p.EnvironmentId },
  ];
  const nodes = [];
  for (const node of p.Nodes) {
    const name = nodeKeySecretName(p.TenantId, p.EnvironmentId, node.Id);
    let privateKey = await readJson<{ privateKey: string }>(sm, name).then((v) => v?.privateKey);
    if (!privateKey) {
      privateKey = generateNodeKey();
      await call(`create the key secret of node ${node.Id}`, name, () =>
        sm.send(
          new CreateSecretCommand({
            Name: name,
            KmsKeyId: p.KmsKeyId,
            Description: `Node key of ${node.Id} (${p.TenantId}/${p.EnvironmentId}); never leaves Secrets Manager and the node`,
            SecretString: JSON.stringify({ privateKey }),
            Tags: [...tags, { Key: 'blockchain-tenancy:node', Value: node.Id }],
          }),
        ),
      );
    }
    const id = nodeIdentity(privateKey);
    nodes.push({ id: node.Id, ip: node.Ip, validator: bool(node.Validator), address: id.address, enodeId: id.enodeId });
  }
  const raftPort = p.RaftPort ? Number(p.RaftPort) : undefined;
  const staticNodes = nodes.map((n) => enodeUrl(n.enodeId, n.ip, { port: Number(p.P2pPort ?? 30303), ...(raftPort ? { raftPort } : {}) }));

  const manifestName = chainManifestSecretName(p.TenantId, p.EnvironmentId);
  const existing = await readJson<ChainManifest>(sm, manifestName);
  // The genesis is written once. Validators added later join through the consensus's own voting.
  const genesis =
    existing?.genesis ??
    buildGenesis({
      client: p.Client as BlockchainClient,
      consensus: p.Consensus as ConsensusProtocol,
      chainId: Number(p.ChainId),
      blockPeriodSeconds: Number(p.BlockPeriodSeconds),
      validators: nodes.filter((n) => n.validator).map((n) => n.address),
      freeGas: bool(p.FreeGas),
      ...(p.EvmVersion ? { evmVersion: p.EvmVersion as EvmVersion } : {}),
      alloc: Object.fromEntries((p.PrefundedAccounts ?? []).map((a) => [a.Address, a.Balance])),
    });
  const manifest: ChainManifest = { genesis, staticNodes, nodes };
  const body = JSON.stringify(manifest);
  if (!existing) {
    await call('create the chain manifest', manifestName, () =>
      sm.send(
        new CreateSecretCommand({
          Name: manifestName,
          KmsKeyId: p.KmsKeyId,
          Description: `Public chain manifest of ${p.TenantId}/${p.EnvironmentId}: genesis, static nodes, node identities`,
          SecretString: body,
          Tags: tags,
        }),
      ),
    );
  } else if (JSON.stringify(existing) !== body) {
    await call('update the chain manifest', manifestName, () => sm.send(new PutSecretValueCommand({ SecretId: manifestName, SecretString: body })));
  }
  const validators = nodes.filter((n) => n.validator).map((n) => n.address).join(',');
  return {
    PhysicalResourceId: physicalId,
    // CloudFormation caps response data at 4 KB: the addresses only while they fit.
    Data: { ManifestSecretName: manifestName, ValidatorAddresses: validators.length <= 3000 ? validators : '', NodeCount: String(nodes.length) },
  };
}

async function readJson<T>(sm: SecretsManagerClient, name: string): Promise<T | undefined> {
  try {
    const out = await call(`read ${name.endsWith('/key') ? 'a node key' : 'the chain manifest'}`, name, () =>
      sm.send(new GetSecretValueCommand({ SecretId: name })),
    );
    return out.SecretString ? (JSON.parse(out.SecretString) as T) : undefined;
  } catch (e) {
    if (e instanceof ResourceNotFoundException || (e as Error).name === 'ResourceNotFoundException') return undefined;
    if ((e as NodeKeysError).cause instanceof ResourceNotFoundException) return undefined;
    throw e;
  }
}

/** A failure with a message an operator can act on (no secret values, ever). */
export class NodeKeysError extends Error {}

const RETRYABLE = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'InternalServiceError']);

async function call<T>(what: string, secretName: string, fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'ResourceNotFoundException') throw e;
      if (RETRYABLE.has(name) && i < attempts) {
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** i, 3000)));
        continue;
      }
      if (name === 'AccessDeniedException' || name === 'AccessDenied') {
        throw new NodeKeysError(
          `node-keys: access denied trying to ${what} (${secretName}); the node-keys function's role needs secretsmanager and kms permissions on this environment's prefix and key`,
        );
      }
      if (RETRYABLE.has(name)) {
        throw new NodeKeysError(`node-keys: Secrets Manager throttled every attempt to ${what} (${secretName}) (${attempts} tries); retry the deployment`);
      }
      throw new NodeKeysError(`node-keys: could not ${what} (${secretName}): ${name}`);
    }
  }
}
