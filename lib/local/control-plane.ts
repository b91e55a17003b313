/**
 * The control plane on a local moto server: its table (the key schema the management stack
 * creates, lib/contracts/control-plane.ts) and event bus, and the deps of the lifecycle routes
 * and of the recorder pointed at them. With these, `serveManagementApi` serves the lifecycle
 * routes locally (the CLI end to end) and tests play the engine by calling the recorder. Runtime
 * code; lib/index.ts never imports it.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ConfigStore } from '../../lambda/management/control-plane/config-store';
import { RecorderDeps } from '../../lambda/management/control-plane/recorder';
import { ControlPlaneDeps } from '../../lambda/management/control-plane/routes';
import { CONTROL_PLANE_TABLE_KEYS, ControlPlaneQuotas, DEFAULT_CONTROL_PLANE_QUOTAS } from '../contracts/control-plane';
import { LocalMoto } from './moto-server';

export interface LocalControlPlaneOptions {
  /** @default 'blockchain-tenancy-control-plane' */
  readonly tableName?: string;
  /** @default 'blockchain-tenancy-control-plane' */
  readonly eventBusName?: string;
  /** @default DEFAULT_CONTROL_PLANE_QUOTAS */
  readonly quotas?: ControlPlaneQuotas;
  /** The clock of the routes and the recorder. @default - the system clock */
  readonly now?: () => Date;
  /** Seconds until an environment's lock expires (CONTROL_PLANE_LOCK_TIMEOUT_SECONDS). @default MAX_LOCK_TIMEOUT_SECONDS */
  readonly lockTimeoutSeconds?: number;
}

export interface LocalControlPlane {
  /** The lifecycle routes' deps (ManagementDeps.controlPlane). */
  readonly deps: ControlPlaneDeps;
  /** The recorder's deps (call handleRecorder with them to play the engine). */
  readonly recorder: RecorderDeps;
  readonly store: ConfigStore;
  readonly dynamodb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly cloudformation: CloudFormationClient;
}

/** Creates the control plane's table and bus on moto and returns the deps that use them. */
export async function createLocalControlPlane(clientConfig: LocalMoto['clientConfig'], opts: LocalControlPlaneOptions = {}): Promise<LocalControlPlane> {
  const tableName = opts.tableName ?? 'blockchain-tenancy-control-plane';
  const eventBusName = opts.eventBusName ?? 'blockchain-tenancy-control-plane';
  // DynamoDB with the SDK's default retries (as in Lambda): moto's server answers a 500 now and
  // then under concurrent transactions, which the SDK retries like DynamoDB's own.
  const dynamodb = new DynamoDBClient({ ...clientConfig, maxAttempts: undefined });
  // moto applies a transaction's items one by one and undoes a cancelled one by restoring a copy
  // of the whole table taken when it began: two transactions at once can erase each other's
  // writes. DynamoDB serializes transactions itself; here they are sent one at a time (reads
  // stay concurrent), so concurrent requests race exactly as they do in AWS.
  let queue: Promise<unknown> = Promise.resolve();
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (!/^TransactWrite/.test(context.commandName ?? '')) return next(args);
      const run = queue.then(() => next(args));
      queue = run.catch(() => undefined);
      return run;
    },
    { step: 'initialize', name: 'serializeMotoTransactions' },
  );
  const events = new EventBridgeClient(clientConfig);
  const cloudformation = new CloudFormationClient(clientConfig);
  const { partitionKey, sortKey, timeToLiveAttribute } = CONTROL_PLANE_TABLE_KEYS;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true } }));
  await events.send(new CreateEventBusCommand({ Name: eventBusName }));
  const now = opts.now;
  const store = new ConfigStore(dynamodb, tableName, now);
  return {
    deps: { tableName, eventBusName, quotas: opts.quotas ?? DEFAULT_CONTROL_PLANE_QUOTAS, ...(opts.lockTimeoutSeconds !== undefined ? { lockTimeoutSeconds: opts.lockTimeoutSeconds } : {}), dynamodb: async () => dynamodb, events: async () => events, ...(now ? { now } : {}) },
    recorder: { store, events, eventBusName, cloudformation: () => cloudformation },
    store,
    dynamodb,
    events,
    cloudformation,
  };
}
