/**
 * The compiled Go gate (dist/assets/node-gate/linux-<arch>/node-gate, as `npm run build:assets`
 * builds it) as a benchmark path: started with the environment a node gives it, invoking the real
 * authorizer handler (argon2id, Secrets Manager on moto) through the AWS SDK's Lambda client at a
 * local Invoke endpoint served by the benchmark process. Its cache times are the production ones
 * (the contract's, not configurable): the warm path re-asks the authorizer every 14 s, which its
 * own cache answers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { LocalLambda, serveLocalLambda } from '../../lib/local/local-lambda';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../../lib/local/moto-server';
import { freePort } from '../../lib/local/processes';
import { goGateBinary } from '../../test/support/gate-process';

export interface GoGate {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startGoGate(o: { upstreamHttp: string; upstreamWs: string; authorize: (event: unknown) => Promise<unknown> }): Promise<GoGate> {
  const lambda: LocalLambda = await serveLocalLambda({ 'bench-authorizer': o.authorize });
  const port = await freePort();
  // GATE_BENCH_BINARY: another build of the gate to measure in the same place (e.g. a change against the shipped one).
  const proc: ChildProcess = spawn(process.env.GATE_BENCH_BINARY ?? goGateBinary(), [], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ID: 'validator-1',
      AUTHORIZER_FUNCTION: 'bench-authorizer',
      GATE_PORT: String(port),
      GATE_HOST: '127.0.0.1',
      UPSTREAM_HTTP: o.upstreamHttp,
      UPSTREAM_WS: o.upstreamWs,
      AWS_REGION: LOCAL_AWS_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      // The gate runs on one core unless GOMAXPROCS is set (gate/cmd/node-gate); GATE_BENCH_GOMAXPROCS tries another budget.
      ...(process.env.GATE_BENCH_GOMAXPROCS ? { GOMAXPROCS: process.env.GATE_BENCH_GOMAXPROCS } : {}),
    },
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('node gate listening') && resolve());
    proc.once('exit', (code) => reject(new Error(`the Go gate exited with ${code}`)));
  });
  return {
    port,
    pid: proc.pid!,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await lambda.close();
    },
  };
}
