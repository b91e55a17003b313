/**
 * A local stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`),
 * serving in-process handlers. The real node gate process reaches "its authorizer Lambda" here
 * through the real @aws-sdk/client-lambda (AWS_ENDPOINT_URL_LAMBDA), so the gate runs unchanged.
 * moto's Lambda needs Docker to run code; this needs nothing. Binds 127.0.0.1 only.
 * Runtime code of `blockchain-tenancy local`; lib/index.ts never imports it.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** A function body: the parsed event in, the JSON-serializable answer out. */
export type LocalHandler = (event: unknown) => Promise<unknown>;

export interface LocalLambda {
  /** e.g. http://127.0.0.1:41234 — AWS_ENDPOINT_URL_LAMBDA for SDK clients. */
  readonly endpoint: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** The path of a request target, or '' when it is not a valid one (never throws). */
export function safePath(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://local').pathname;
  } catch {
    return '';
  }
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Serves `functions` (by name or ARN) on 127.0.0.1. A handler that throws answers as Lambda does
 * for an unhandled error (200 with X-Amz-Function-Error: Unhandled); an unknown function, 404
 * ResourceNotFoundException.
 */
export async function serveLocalLambda(functions: Readonly<Record<string, LocalHandler>>, port = 0): Promise<LocalLambda> {
  const find = (nameOrArn: string): LocalHandler | undefined => functions[nameOrArn] ?? functions[nameOrArn.split(':function:')[1]?.split(':')[0] ?? ''];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const m = INVOKE.exec(safePath(req.url));
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !m) return send(404, { message: 'not a Lambda Invoke request' }, { 'x-amzn-errortype': 'UnknownOperationException' });
      if (size > MAX_PAYLOAD_BYTES) return send(413, { Type: 'User', message: `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation` }, { 'x-amzn-errortype': 'RequestEntityTooLargeException' });
      let name: string;
      try {
        name = decodeURIComponent(m[1]);
      } catch {
        return send(404, { Type: 'User', message: 'Function not found' }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      }
      const fn = find(name);
      if (!fn) return send(404, { Type: 'User', message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      let event: unknown;
      try {
        event = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return send(400, { Type: 'User', message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
      }
      fn(event).then(
        (answer) => send(200, answer ?? null, { 'x-amz-executed-version': '$LATEST' }),
        (e: Error) => send(200, { errorType: e.name, errorMessage: e.message }, { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
