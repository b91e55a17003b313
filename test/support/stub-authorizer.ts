/**
 * A scripted authorizer for gate contract tests, served as a Lambda function at a local Invoke
 * endpoint (lib/local/local-lambda.ts): the gate process calls it exactly as it calls the
 * environment's authorizer in AWS, and the test decides each answer (the REQUEST-authorizer
 * response the real authorizer gives: lambda/authorizer/handler.ts). Tests that need the real
 * credential checks use the real handler instead (test/e2e/gate-process.test.ts).
 */
import { NODE_HEADER, RequestAuthorizerEvent } from '../../lambda/authorizer/handler';
import { LocalLambda, serveLocalLambda } from '../../lib/local/local-lambda';

/** What the scripted authorizer answers for one call. */
export interface StubDecision {
  readonly allowed: boolean;
  /** The credential's expiry as the authorizer reports it (context.expiresAt). */
  readonly expiresAt?: string;
}

export interface StubAuthorizer {
  /** AWS_ENDPOINT_URL_LAMBDA for the gate. */
  readonly endpoint: string;
  readonly functionName: string;
  /** Invocations so far. */
  calls(): number;
  /** While true, the function fails (Lambda answers FunctionError: Unhandled): an outage. */
  down: boolean;
  /** Each call waits this long before it answers. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startStubAuthorizer(decide: (authorization: string, nodeId: string) => StubDecision): Promise<StubAuthorizer> {
  let calls = 0;
  const holder: { lambda?: LocalLambda } = {};
  const stub: StubAuthorizer = {
    endpoint: '',
    functionName: 'stub-authorizer',
    calls: () => calls,
    down: false,
    delayMs: 0,
    close: () => holder.lambda?.close() ?? Promise.resolve(),
  };
  const lambda = await serveLocalLambda({
    [stub.functionName]: async (event) => {
      calls++;
      if (stub.delayMs) await new Promise((r) => setTimeout(r, stub.delayMs));
      if (stub.down) throw new Error('authorizer down');
      const e = event as RequestAuthorizerEvent;
      const headers = (e.headers ?? {}) as Record<string, string | undefined>;
      const d = decide(headers.authorization ?? '', headers[NODE_HEADER] ?? '');
      return {
        principalId: 'stub',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: d.allowed ? 'Allow' : 'Deny', Resource: e.methodArn }] },
        context: d.allowed ? { credentialId: 'btstub', ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}) } : { reason: 'forbidden' },
      };
    },
  });
  holder.lambda = lambda;
  return Object.assign(stub, { endpoint: lambda.endpoint });
}
