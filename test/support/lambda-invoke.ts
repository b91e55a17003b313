/**
 * The Lambda Invoke API on 127.0.0.1 for one real handler: what the node gate's LambdaClient calls
 * (point it here with AWS_ENDPOINT_URL_LAMBDA). POST /2015-03-31/functions/{name}/invocations runs
 * the handler on the event and answers its result, or a FunctionError like Lambda does when the
 * handler throws. moto cannot run Node.js functions without Docker; this runs the real handler.
 */
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface LambdaEndpoint {
  readonly endpoint: string;
  /** Invocations answered so far. */
  readonly invocations: () => number;
  stop(): Promise<void>;
}

export async function startLambdaEndpoint(functionName: string, handler: (event: unknown) => Promise<unknown>): Promise<LambdaEndpoint> {
  let invocations = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m || decodeURIComponent(m[1]) !== functionName) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' }).end('{"message":"Function not found"}');
        return;
      }
      invocations++;
      let event: unknown;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidRequestContentException' }).end('{"message":"Could not parse request body into json"}');
        return;
      }
      handler(event).then(
        (result) => res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }).end(JSON.stringify(result ?? null)),
        (e: Error) => res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify({ errorType: e.name, errorMessage: 'handler failed' })),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations: () => invocations,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
