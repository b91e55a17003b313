import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { describe, expect, it } from 'vitest';
import { BlockchainClient, BlockchainEnvironment, ConsensusProtocol, nodeProgramRuntime } from '../../lib';
import { testApp } from '../support/synth';

/** The node boot script as the instance receives it, with CloudFormation tokens as placeholders. */
function bootScripts(client: BlockchainClient, consensus: ConsensusProtocol): string[] {
  const stack = new Stack(testApp(), 'U', { env: { region: 'eu-west-1' } });
  new BlockchainEnvironment(stack, 'Env', {
    tenantId: 'acme',
    environmentId: 'dev',
    chain: { client, consensus, allowDeprecated: true },
    ingress: { certificate: acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b') },
  });
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map(render).join('');
    const o = v as Record<string, unknown>;
    if (o['Fn::Join']) return ((o['Fn::Join'] as [string, unknown[]])[1]).map(render).join((o['Fn::Join'] as [string, unknown[]])[0]);
    return 'TOKEN'; // Ref / GetAtt: a resolved id or ARN at deploy time
  };
  return Object.values(Template.fromStack(stack).findResources('AWS::EC2::LaunchTemplate')).map((lt) =>
    render((lt.Properties.LaunchTemplateData.UserData as { 'Fn::Base64': unknown })['Fn::Base64']),
  );
}

describe.each([
  [BlockchainClient.BESU, ConsensusProtocol.QBFT],
  [BlockchainClient.GOQUORUM, ConsensusProtocol.IBFT],
  [BlockchainClient.GOQUORUM, ConsensusProtocol.RAFT],
  [BlockchainClient.GETH, ConsensusProtocol.CLIQUE],
])('the %s + %s node boot script', (client, consensus) => {
  const scripts = bootScripts(client, consensus);

  it('is valid bash (bash -n)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-userdata-'));
    scripts.forEach((script, i) => {
      const file = join(dir, `node-${i}.sh`);
      writeFileSync(file, script);
      execFileSync('bash', ['-n', file]);
    });
    expect(scripts).toHaveLength(4);
  });

  it('mounts storage over TLS + IAM before the client starts, then installs the gate and the metric publisher', () => {
    const s = scripts[0];
    const order = ['set -euo pipefail', 'efs _netdev,tls,iam,accesspoint=', 'mount -a -t efs', 'get-secret-value', 'docker run -d --name blockchain-client', 'node-gate.service', 'systemctl enable --now node-gate node-metrics'];
    const positions = order.map((needle) => s.indexOf(needle));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(s).toContain("NODE_ID=%s\\nAUTHORIZER_FUNCTION=%s");
    // The gate's method list is the node's client's; /health checks the block age (not for Raft).
    expect(s).toMatch(/RPC_CLIENT=%s\\nHEALTH_MAX_BLOCK_AGE_SECONDS=%s[^']*' '[^']*' '[^']*' '[^']*' '[^']*' '[^']*' '[^']*' '(besu|goquorum|geth)' '(\d+)?'/);
    // The key is read into the node's storage with a private umask and never echoed.
    expect(s).toContain('umask 077');
    expect(s).not.toMatch(/echo .*privateKey/);
  });

  it('installs the pinned Node.js LTS from the Amazon Linux repositories and runs both services on its own executable', () => {
    const { dnfPackage, executable } = nodeProgramRuntime();
    for (const s of scripts) {
      // No "|| true": a failed install stops the boot script (set -e).
      expect(s).toContain(`\ndnf install -y --setopt=install_weak_deps=False ${dnfPackage}\n${executable} --version\n`);
      expect(s).toContain(`ExecStart=${executable} /opt/blockchain-tenancy/node-gate/index.js`);
      expect(s).toContain(`ExecStart=${executable} /opt/blockchain-tenancy/node-metrics/index.js`);
      expect(s).not.toMatch(/nodejs20|node-20|ExecStart=\/usr\/bin\/node /);
      expect(s.indexOf(`dnf install -y --setopt=install_weak_deps=False ${dnfPackage}`)).toBeLessThan(s.indexOf('systemctl enable --now node-gate node-metrics'));
    }
  });
});
