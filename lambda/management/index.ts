/** Lambda entry of the management API (API Gateway REST, Lambda proxy integration). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { IssuerRequest, IssuerResponse } from '../issuer/handler';
import { ProxyEvent, handleManagement } from './api';

const lambda = new LambdaClient({});
const deps = {
  ssm: new SSMClient({}),
  ec2: new EC2Client({}),
  autoscaling: new AutoScalingClient({}),
  invokeIssuer: async (functionArn: string, request: IssuerRequest): Promise<IssuerResponse> => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(JSON.stringify(request)) }));
    if (out.FunctionError || !out.Payload) throw new Error('issuer failed');
    return JSON.parse(Buffer.from(out.Payload).toString('utf8')) as IssuerResponse;
  },
};

export const handler = (event: ProxyEvent) => handleManagement(event, deps);
