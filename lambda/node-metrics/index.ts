/**
 * Node metric publisher: runs on every node as a systemd service and pushes block height, peer
 * count and RPC liveness to CloudWatch every BT_INTERVAL_SECONDS (default 60) through the VPC's
 * monitoring endpoint. It only reads the client on 127.0.0.1.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { configFromEnv, publishOnce } from './publisher';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const intervalMs = Math.max(10, Number(process.env.BT_INTERVAL_SECONDS ?? 60)) * 1000;
  const cloudwatch = new CloudWatchClient({});
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
  });
  while (!stopping) {
    try {
      const s = await publishOnce(config, cloudwatch);
      console.log(JSON.stringify({ msg: 'published', rpcUp: s.rpcUp, blockHeight: s.blockHeight, peerCount: s.peerCount, error: s.error }));
    } catch (e) {
      console.error(JSON.stringify({ msg: 'publish failed', error: (e as Error).name }));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

void main();
