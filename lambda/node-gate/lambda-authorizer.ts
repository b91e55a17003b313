import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NODE_HEADER, gateMethodArn } from '../../lib/contracts/gate-protocol';
import { RequestAuthorizerEvent } from '../authorizer/handler';
import { AuthorizeFn, Decision } from './decision-cache';

/** The authorizer's answer as the gate reads it (a REQUEST-authorizer response). */
interface AuthorizerAnswer {
  policyDocument?: { Statement?: { Effect?: string }[] };
  context?: Record<string, string>;
}

/** Turns an authorizer response into a decision; throws when the authorizer could not decide. */
export function decisionFromAnswer(answer: AuthorizerAnswer): Decision {
  const effect = answer?.policyDocument?.Statement?.[0]?.Effect;
  if (answer?.context?.reason === 'unavailable' || (effect !== 'Allow' && effect !== 'Deny')) {
    throw new Error('authorizer could not decide');
  }
  return effect === 'Allow'
    ? { allowed: true, ...(answer.context?.credentialId ? { credentialId: answer.context.credentialId } : {}), ...(answer.context?.expiresAt ? { expiresAt: answer.context.expiresAt } : {}) }
    : { allowed: false };
}

/** The event the gate sends: the same shape API Gateway sends, so one authorizer serves both. */
export function authorizerEvent(authorization: string, nodeId: string): RequestAuthorizerEvent {
  return { type: 'REQUEST', methodArn: gateMethodArn(nodeId), headers: { authorization, [NODE_HEADER]: nodeId } };
}

/** Calls the environment's authorizer Lambda (lambda:InvokeFunction on that one function). */
export function lambdaAuthorizer(functionName: string, client = new LambdaClient({})): AuthorizeFn {
  return async (authorization, nodeId) => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(authorizerEvent(authorization, nodeId))) }),
    );
    if (out.FunctionError || !out.Payload) throw new Error('authorizer failed');
    return decisionFromAnswer(JSON.parse(Buffer.from(out.Payload).toString('utf8')) as AuthorizerAnswer);
  };
}
