import { ArnFormat, CfnElement, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lambdaCode } from '../assets/bundled-assets';
import { chainManifestSecretName, nodeSecretPrefix } from '../contracts/node-secrets';
import { ResolvedChainSpec } from '../chain/chain-spec';
import { ConsensusProtocol } from '../chain/protocols';
import { nagArn } from '../security/nag-ids';
import { SinglePolicyRole } from '../security/single-policy-role';
import { acknowledgeDeployTimeFunction } from '../security/deploy-time-function';
import { acknowledgeFinding } from '../security/acknowledge';

/** Props of {@link NodeKeys}. */
export interface NodeKeysProps {
  readonly tenantId: string;
  readonly environmentId: string;
  /** The environment key that encrypts every node secret. */
  readonly encryptionKey: kms.IKey;
  /** The resolved chain. */
  readonly chain: ResolvedChainSpec;
  /** Stable peer address of every node. */
  readonly peerAddresses: Readonly<Record<string, string>>;
  /** Peer-to-peer port. */
  readonly p2pPort: number;
  /** Removal policy of the function's log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Deploy-time node keys and genesis: a custom resource that generates each node's secp256k1 key
 * straight into Secrets Manager (under the environment key) and writes the public chain manifest.
 * No private key is ever in the template, an asset, a log or an output.
 */
export class NodeKeys extends Construct {
  /** Name of the public chain manifest secret (genesis, static nodes, identities). */
  public readonly manifestSecretName: string;
  /** Comma-separated validator addresses (public), as returned by the custom resource. */
  public readonly validatorAddresses: string;
  /** The custom resource (nodes depend on it). */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: NodeKeysProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = nodeSecretPrefix(props.tenantId, props.environmentId);
    this.manifestSecretName = chainManifestSecretName(props.tenantId, props.environmentId);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const secretArn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const identity = new SinglePolicyRole(this, 'Identity', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Creates node keys and the chain manifest of ${props.tenantId}/${props.environmentId}`,
      statements: [
        new iam.PolicyStatement({
          sid: 'NodeSecretsOfThisEnvironment',
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:TagResource'],
          resources: [secretArn],
        }),
        new iam.PolicyStatement({
          sid: 'EnvironmentKeyViaSecretsManager',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'OwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`],
        }),
      ],
    });
    acknowledgeFinding(identity.policy, {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', `secret:${prefix}*`)}]`,
      reason: "Secret ARNs end in a random suffix and the node secrets do not exist before this function creates them: the wildcard is this environment's node-secret prefix only.",
    });
    acknowledgeFinding(identity.policy, {
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(logGroup.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'Log streams of this function\'s own log group.',
    });
    const fn = new lambda.Function(this, 'Function', {
      code: lambdaCode('node-keys'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(5),
      role: identity.role,
      logGroup,
      description: `Node keys and chain manifest of ${props.tenantId}/${props.environmentId}`,
    });
    acknowledgeDeployTimeFunction(fn, 'creates node keys during deployments');

    const raft = props.chain.consensus === ConsensusProtocol.RAFT;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::BlockchainNodeKeys',
      properties: {
        TenantId: props.tenantId,
        EnvironmentId: props.environmentId,
        KmsKeyId: props.encryptionKey.keyArn,
        Client: props.chain.client,
        Consensus: props.chain.consensus,
        ChainId: String(props.chain.chainId),
        BlockPeriodSeconds: String(props.chain.blockPeriodSeconds),
        FreeGas: String(props.chain.freeGas),
        EvmVersion: props.chain.evmVersion,
        // Public data only: addresses and balances, never keys.
        PrefundedAccounts: props.chain.prefundedAccounts.map((a) => ({ Address: a.address, Balance: a.balance })),
        P2pPort: String(props.p2pPort),
        ...(raft ? { RaftPort: '50400' } : {}),
        Nodes: props.chain.nodes.map((n) => ({ Id: n.id, Ip: props.peerAddresses[n.id], Validator: String(n.role === 'validator') })),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.validatorAddresses = this.resource.getAttString('ValidatorAddresses');
  }
}
