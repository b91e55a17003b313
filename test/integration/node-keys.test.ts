import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KMSClient, CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomResourceEvent, handleNodeKeys } from '../../lambda/node-keys/handler';
import { ChainManifest, chainManifestSecretName, nodeKeySecretName } from '../../lib';
import { nodeIdentity } from '../../lib/chain/keys';
import { MotoServer, startMoto } from '../support/moto';

describe('node-keys custom resource against Secrets Manager on moto', () => {
  let moto: MotoServer;
  let sm: SecretsManagerClient;
  let keyId: string;

  const props = (nodes: { Id: string; Ip: string; Validator: string }[]) => ({
    TenantId: 'acme',
    EnvironmentId: 'dev',
    KmsKeyId: keyId,
    Client: 'besu',
    Consensus: 'qbft',
    ChainId: '1337',
    BlockPeriodSeconds: '2',
    FreeGas: 'true',
    EvmVersion: 'cancun',
    PrefundedAccounts: [{ Address: '0xFE3B557E8Fb62b89F4916B721be55cEb828dBd73', Balance: '0x3635c9adc5dea00000' }],
    Nodes: nodes,
  });
  const four = [1, 2, 3, 4].map((i) => ({ Id: `validator-${i}`, Ip: `10.10.128.${10 + i}`, Validator: 'true' }));
  const event = (type: 'Create' | 'Update' | 'Delete', nodes = four): CustomResourceEvent => ({
    RequestType: type,
    ResourceProperties: props(nodes),
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'blockchain-tenancy/acme/dev/nodes/' }),
  });
  const manifest = async () =>
    JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: chainManifestSecretName('acme', 'dev') }))).SecretString!) as ChainManifest;
  const keyOf = async (node: string) =>
    JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: nodeKeySecretName('acme', 'dev', node) }))).SecretString!).privateKey as string;

  beforeAll(async () => {
    moto = await startMoto();
    sm = new SecretsManagerClient(moto.clientConfig);
    keyId = (await new KMSClient(moto.clientConfig).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  afterAll(() => moto?.stop());

  let firstKeys: string[] = [];
  let firstGenesis: unknown;

  it('create: one key secret per node under the environment key, a manifest, only public data returned', async () => {
    const result = await handleNodeKeys(event('Create'), sm);
    firstKeys = await Promise.all(four.map((n) => keyOf(n.Id)));
    const m = await manifest();
    firstGenesis = m.genesis;
    // The requested fork and the prefunded addresses are in the genesis the nodes read.
    expect(m.genesis).toMatchObject({ config: { cancunTime: 0, zeroBaseFee: true }, alloc: { fe3b557e8fb62b89f4916b721be55ceb828dbd73: { balance: '0x3635c9adc5dea00000' } } });
    expect(result.PhysicalResourceId).toBe('blockchain-tenancy/acme/dev/nodes/');
    expect(result.Data.NodeCount).toBe('4');
    expect(result.Data.ValidatorAddresses.split(',')).toEqual(firstKeys.map((k) => nodeIdentity(k).address));
    const returned = JSON.stringify(result);
    for (const k of firstKeys) expect(returned).not.toContain(k.slice(2));
    expect(JSON.stringify(m)).not.toContain(firstKeys[0].slice(2));
    expect(m.staticNodes).toEqual(firstKeys.map((k, i) => `enode://${nodeIdentity(k).enodeId}@10.10.128.${11 + i}:30303`));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: nodeKeySecretName('acme', 'dev', 'validator-1') }));
    expect(described.KmsKeyId).toContain(keyId);
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'blockchain-tenancy:node', Value: 'validator-1' }]));
  });

  it('repeat create is idempotent: same keys, same genesis', async () => {
    await handleNodeKeys(event('Create'), sm);
    expect(await Promise.all(four.map((n) => keyOf(n.Id)))).toEqual(firstKeys);
    expect((await manifest()).genesis).toEqual(firstGenesis);
  });

  it('update adds a node without regenerating keys or touching the genesis', async () => {
    const five = [...four, { Id: 'member-1', Ip: '10.10.129.11', Validator: 'false' }];
    const result = await handleNodeKeys(event('Update', five), sm);
    expect(await Promise.all(four.map((n) => keyOf(n.Id)))).toEqual(firstKeys);
    const m = await manifest();
    expect(m.genesis).toEqual(firstGenesis);
    expect(m.staticNodes).toHaveLength(5);
    expect(result.Data.NodeCount).toBe('5');
  });

  it('an update with other prefunded accounts keeps the genesis (it is fixed at the first deployment)', async () => {
    const e = event('Update');
    await handleNodeKeys({ ...e, ResourceProperties: { ...e.ResourceProperties, PrefundedAccounts: [{ Address: '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf', Balance: '1' }] } }, sm);
    expect((await manifest()).genesis).toEqual(firstGenesis);
  });

  it('delete keeps every secret', async () => {
    await handleNodeKeys(event('Delete'), sm);
    const names = (await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name);
    expect(names).toEqual(expect.arrayContaining([chainManifestSecretName('acme', 'dev'), ...four.map((n) => nodeKeySecretName('acme', 'dev', n.Id))]));
  });

  it('reports throttling after retries and missing permissions clearly, without secret values', async () => {
    const failing = (name: string) => {
      const client = new SecretsManagerClient(moto.clientConfig);
      client.middlewareStack.add(
        () => async () => {
          const err = new Error('denied or throttled');
          err.name = name;
          throw err;
        },
        { step: 'initialize', name: `fail-${name}` },
      );
      return client;
    };
    await expect(handleNodeKeys({ ...event('Create'), ResourceProperties: { ...props(four), EnvironmentId: 'other' } }, failing('AccessDeniedException'))).rejects.toThrow(
      /node-keys: access denied trying to read a node key \(blockchain-tenancy\/acme\/other\/nodes\/validator-1\/key\); the node-keys function's role needs secretsmanager and kms permissions/,
    );
    await expect(handleNodeKeys({ ...event('Create'), ResourceProperties: { ...props(four), EnvironmentId: 'other' } }, failing('ThrottlingException'))).rejects.toThrow(
      /throttled every attempt to read a node key .* \(5 tries\); retry the deployment/,
    );
  }, 30_000);
});
