/**
 * CloudFormation custom resource: node keys + chain manifest. Responds to CloudFormation itself
 * (PUT to the pre-signed ResponseURL) so no provider framework is needed. Logs never contain key
 * material: only the request type, the outcome and error messages written by the handler.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CustomResourceEvent, handleNodeKeys } from './handler';

interface CfnEvent extends CustomResourceEvent {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

const sm = new SecretsManagerClient({});

export async function handler(event: CfnEvent): Promise<void> {
  let body: Record<string, unknown>;
  try {
    const result = await handleNodeKeys(event, sm);
    body = { Status: 'SUCCESS', PhysicalResourceId: result.PhysicalResourceId, Data: result.Data };
    console.log(JSON.stringify({ requestType: event.RequestType, status: 'SUCCESS', nodes: result.Data.NodeCount }));
  } catch (e) {
    const reason = e instanceof Error ? e.message : 'unknown error';
    body = { Status: 'FAILED', Reason: reason.slice(0, 1000), PhysicalResourceId: event.PhysicalResourceId ?? 'node-keys-failed' };
    console.error(JSON.stringify({ requestType: event.RequestType, status: 'FAILED', reason }));
  }
  const payload = JSON.stringify({ ...body, StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId });
  await fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body: payload });
}
