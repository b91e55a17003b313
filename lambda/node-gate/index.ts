/**
 * The node auth gate as a service (installed on every node by its user data). Configuration:
 * NODE_ID, AUTHORIZER_FUNCTION, GATE_PORT (8080), GATE_HOST (0.0.0.0), UPSTREAM_HTTP (http://127.0.0.1:8545),
 * UPSTREAM_WS (ws://127.0.0.1:8546), RPC_CLIENT (besu | goquorum | geth: the client's method list),
 * EXTRA_ALLOWED_METHODS (comma list of exact names), HEALTH_MAX_BLOCK_AGE_SECONDS (unset: /health
 * checks only that the client answers). Cache times come from the revocation bound
 * (lib/contracts/revocation.ts), not from configuration.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { nodeMetricNamespace } from '../../lib/contracts/metric-names';
import { createGate } from './gate';
import { lambdaAuthorizer } from './lambda-authorizer';

const env = process.env;
if (!env.NODE_ID || !env.AUTHORIZER_FUNCTION) {
  console.error('node-gate: NODE_ID and AUTHORIZER_FUNCTION must be set (see /etc/blockchain-tenancy/gate.env)');
  process.exit(2);
}
const maxBlockAge = Number(env.HEALTH_MAX_BLOCK_AGE_SECONDS);
let gate: ReturnType<typeof createGate>;
try {
  gate = createGate({
    nodeId: env.NODE_ID,
    upstreamHttp: env.UPSTREAM_HTTP ?? 'http://127.0.0.1:8545',
    upstreamWs: env.UPSTREAM_WS ?? 'ws://127.0.0.1:8546',
    authorize: lambdaAuthorizer(env.AUTHORIZER_FUNCTION),
    ...(env.RPC_CLIENT ? { client: env.RPC_CLIENT } : {}),
    extraAllowedMethods: (env.EXTRA_ALLOWED_METHODS ?? '').split(',').map((m) => m.trim()).filter(Boolean),
    ...(env.HEALTH_MAX_BLOCK_AGE_SECONDS && maxBlockAge > 0 ? { healthMaxBlockAgeMs: maxBlockAge * 1000 } : {}),
  });
} catch (e) {
  console.error(`node-gate: ${(e as Error).message} (see /etc/blockchain-tenancy/gate.env)`);
  process.exit(2);
}
// Publish gate latency and cache hit/miss counts once a minute (BT_TENANT / BT_ENVIRONMENT set).
// The environment's own namespace (the only one the node role may write to); metrics must never
// stop the gate, so ids that name no namespace only disable them.
const namespace = (() => {
  try {
    return env.BT_TENANT && env.BT_ENVIRONMENT ? nodeMetricNamespace(env.BT_TENANT, env.BT_ENVIRONMENT) : undefined;
  } catch (e) {
    console.error(JSON.stringify({ msg: 'gate metrics disabled', error: (e as Error).message }));
    return undefined;
  }
})();
/** Publishes what the gate measured since the last publish (a no-op without a namespace). */
let publishMetrics: () => Promise<void> = async () => undefined;
if (env.BT_TENANT && env.BT_ENVIRONMENT && namespace) {
  const cloudwatch = new CloudWatchClient({});
  const dims = { tenantId: env.BT_TENANT, environmentId: env.BT_ENVIRONMENT, nodeId: env.NODE_ID };
  publishMetrics = () => {
    const data = gate.metrics.drain(dims, gate.cache);
    return gate.metrics.publish(cloudwatch, data, namespace).catch((e: Error) => console.error(JSON.stringify({ msg: 'gate metrics not published', error: e.name })));
  };
  setInterval(() => void publishMetrics(), 60_000).unref();
}
// Nothing a request does may end the process: the request paths catch and answer; this logs
// anything that still escapes (without request data) instead of dropping every open socket.
process.on('uncaughtException', (e) => console.error(JSON.stringify({ level: 'error', msg: 'node gate: uncaught exception', error: e.name })));
process.on('unhandledRejection', (e) => console.error(JSON.stringify({ level: 'error', msg: 'node gate: unhandled rejection', error: (e as Error)?.name })));
gate.server.listen(Number(env.GATE_PORT ?? 8080), env.GATE_HOST ?? '0.0.0.0', () => console.log(JSON.stringify({ msg: 'node gate listening', node: env.NODE_ID })));
// On stop (systemd sends SIGTERM): stop serving, publish the last interval's metrics (bounded,
// so a CloudWatch outage cannot hold the stop), then exit 0. Without the flush, every restart or
// replacement of a node would lose up to a minute of gate metrics.
const FLUSH_TIMEOUT_MS = 5_000;
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  const bounded = (p: Promise<void>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, FLUSH_TIMEOUT_MS).unref())]);
  void bounded(gate.close())
    .then(() => bounded(publishMetrics()))
    .then(() => process.exit(0));
});
