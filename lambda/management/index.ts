/** Lambda entry of the management API (API Gateway REST, Lambda proxy integration). */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { IssuerRequest, IssuerResponse } from '../issuer/handler';
import { ProxyEvent, autoScalingSdk, ec2Sdk, handleManagement } from './api';
import { withCors } from './cors';

const lambda = new LambdaClient({});
// EC2 and Auto Scaling load on the first node route, not at init (see api.ts).
let ec2: EC2Client | undefined;
let autoscaling: AutoScalingClient | undefined;
const deps = {
  ssm: new SSMClient({}),
  ec2: async () => (ec2 ??= new (ec2Sdk().EC2Client)({})),
  autoscaling: async () => (autoscaling ??= new (autoScalingSdk().AutoScalingClient)({})),
  invokeIssuer: async (functionArn: string, request: IssuerRequest): Promise<IssuerResponse> => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(JSON.stringify(request)) }));
    if (out.FunctionError || !out.Payload) throw new Error('issuer failed');
    return JSON.parse(Buffer.from(out.Payload).toString('utf8')) as IssuerResponse;
  },
};

// Set by ManagementApi.allowBrowserOrigin (the web console's origin).
const corsOrigin = process.env.CORS_ALLOW_ORIGIN;

export const handler = async (event: ProxyEvent) => withCors(await handleManagement(event, deps), corsOrigin);
