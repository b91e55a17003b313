/**
 * The gate's upstream client built on undici 7's Pool, for the benchmark's comparison with the
 * hand-written pool (lambda/node-gate/upstream-pool.ts): the same contract (keep-alive
 * connections, one request in flight each, 502 on a failed or cut answer, 504 on a timeout, no
 * retries, answers buffered whole up to a size cap).
 */
import { Dispatcher, Pool, errors } from 'undici';
import { UpstreamCallback, UpstreamClient, UpstreamError, UpstreamPoolOptions } from '../../lambda/node-gate/upstream-pool';

export class UndiciUpstream implements UpstreamClient {
  connectionsOpened = 0;
  private readonly pool: Pool;
  private readonly path: string;

  constructor(url: string, options: UpstreamPoolOptions = {}) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    const timeout = options.timeoutMs ?? 120_000;
    this.pool = new Pool(u.origin, {
      connections: options.maxConnections ?? 64,
      pipelining: 1,
      keepAliveTimeout: options.idleMs ?? 4000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      maxResponseSize: options.maxResponseBytes ?? 256 * 1024 * 1024,
    });
    this.pool.on('connect', () => this.connectionsOpened++);
  }

  post(body: Buffer, callback: UpstreamCallback): void {
    this.pool.request(
      { path: this.path, method: 'POST', headers: { 'content-type': 'application/json' }, body },
      (err: Error | null, data: Dispatcher.ResponseData) => {
        if (err) return callback(failure(err));
        const chunks: Buffer[] = [];
        data.body.on('data', (c: Buffer) => chunks.push(c));
        data.body.on('end', () => callback(undefined, { status: data.statusCode, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
        data.body.on('error', (e: Error) => callback(failure(e)));
      },
    );
  }

  close(): void {
    void this.pool.destroy();
  }
}

function failure(e: Error): UpstreamError {
  const timeout = e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError;
  return new UpstreamError(timeout ? 'upstream timed out' : 'upstream connection failed', timeout ? 504 : 502);
}
