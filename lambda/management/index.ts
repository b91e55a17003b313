/** Lambda entry of the management API (API Gateway REST, Lambda proxy integration). */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CONTROL_PLANE_ENV, parseControlPlaneQuotas, parseLockTimeoutSeconds } from '../../lib/contracts/control-plane';
import { IssuerRequest, IssuerResponse } from '../issuer/handler';
import { ManagementDeps, ProxyEvent, autoScalingSdk, ec2Sdk, handleManagement } from './api';
import { eventBridgeSdk } from './control-plane/routes';
import { withCors } from './cors';

// The Lambda client loads on the first credential route; EC2 and Auto Scaling on the first node
// route (see api.ts); DynamoDB and EventBridge on the first lifecycle route: not at init.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lambdaSdk = () => require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
let lambda: LambdaClient | undefined;
let ec2: EC2Client | undefined;
let autoscaling: AutoScalingClient | undefined;
let dynamodb: DynamoDBClient | undefined;
let events: EventBridgeClient | undefined;
const tableName = process.env[CONTROL_PLANE_ENV.TABLE];
const eventBusName = process.env[CONTROL_PLANE_ENV.EVENT_BUS];
const deps: ManagementDeps = {
  ssm: new SSMClient({}),
  ec2: async () => (ec2 ??= new (ec2Sdk().EC2Client)({})),
  autoscaling: async () => (autoscaling ??= new (autoScalingSdk().AutoScalingClient)({})),
  invokeIssuer: async (functionArn: string, request: IssuerRequest): Promise<IssuerResponse> => {
    const { InvokeCommand, LambdaClient } = lambdaSdk();
    const out = await (lambda ??= new LambdaClient({})).send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(JSON.stringify(request)) }));
    if (out.FunctionError || !out.Payload) throw new Error('issuer failed');
    return JSON.parse(Buffer.from(out.Payload).toString('utf8')) as IssuerResponse;
  },
  // The lifecycle routes exist only with the control plane's table and bus. Bad quotas fail the
  // init (loudly), never run without limits; so does a bad lock timeout.
  ...(tableName && eventBusName
    ? {
        controlPlane: {
          tableName,
          eventBusName,
          quotas: parseControlPlaneQuotas(process.env[CONTROL_PLANE_ENV.QUOTAS]),
          lockTimeoutSeconds: parseLockTimeoutSeconds(process.env[CONTROL_PLANE_ENV.LOCK_TIMEOUT]),
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          dynamodb: async () => (dynamodb ??= new (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient({})),
          events: async () => (events ??= new (eventBridgeSdk().EventBridgeClient)({})),
        },
      }
    : {}),
};

// Set by ManagementApi.allowBrowserOrigin (the web console's origin).
const corsOrigin = process.env.CORS_ALLOW_ORIGIN;

export const handler = async (event: ProxyEvent) => withCors(await handleManagement(event, deps), corsOrigin);
