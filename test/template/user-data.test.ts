import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { BlockchainClient, BlockchainEnvironment, ConsensusProtocol, EvmVersion, NODE_GATE_EXECUTABLE, NodeRole, nodeProgramRuntime } from '../../lib';
import { buildTenantApp, testApp } from '../support/synth';

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

  it('installs the pinned Node.js LTS from the Amazon Linux repositories for the metric publisher, and runs the gate as its static binary', () => {
    const { dnfPackage, executable } = nodeProgramRuntime();
    for (const s of scripts) {
      // No "|| true": a failed install stops the boot script (set -e).
      expect(s).toContain(`\ndnf install -y --setopt=install_weak_deps=False ${dnfPackage}\n${executable} --version\n`);
      expect(s).toContain(`ExecStart=${NODE_GATE_EXECUTABLE}\n`);
      expect(s).toContain(`ExecStart=${executable} /opt/blockchain-tenancy/node-metrics/index.js`);
      expect(s).not.toContain('node-gate/index.js');
      expect(s).not.toMatch(/nodejs20|node-20|ExecStart=\/usr\/bin\/node /);
      expect(s.indexOf(`dnf install -y --setopt=install_weak_deps=False ${dnfPackage}`)).toBeLessThan(s.indexOf('systemctl enable --now node-gate node-metrics'));
      expect(s.indexOf(`install -m 0755 "/tmp/node-gate/linux-$GATE_ARCH/node-gate" ${NODE_GATE_EXECUTABLE}`)).toBeLessThan(s.indexOf('systemctl enable --now node-gate node-metrics'));
    }
  });

  it("installs the gate binary for the instance's architecture from the asset (no download), and stops the boot on an unknown one", () => {
    // The boot script's own lines, run by bash with uname answering as each instance family would
    // and the asset's layout unpacked into a temporary directory.
    const s = scripts[0];
    const lines = s.split('\n');
    const from = lines.findIndex((l) => l.startsWith('case "$(uname -m)"'));
    const install = lines.slice(from, from + 2).join('\n');
    expect(install).toContain(NODE_GATE_EXECUTABLE);
    const run = (machine: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'bt-gate-install-'));
      for (const arch of ['amd64', 'arm64']) {
        mkdirSync(join(dir, 'asset', `linux-${arch}`), { recursive: true });
        writeFileSync(join(dir, 'asset', `linux-${arch}`, 'node-gate'), `binary for ${arch}`);
      }
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'uname'), `#!/bin/sh\necho ${machine}\n`);
      chmodSync(join(dir, 'bin', 'uname'), 0o755);
      const target = join(dir, 'node-gate');
      const script = `set -euo pipefail\n${install.replaceAll('/tmp/node-gate', join(dir, 'asset')).replaceAll(NODE_GATE_EXECUTABLE, target)}\n`;
      try {
        execFileSync('bash', ['-c', script], { env: { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] });
        return { installed: readFileSync(target, 'utf8'), mode: statSync(target).mode & 0o777 };
      } catch (e) {
        return { failed: (e as { stderr?: Buffer }).stderr?.toString().trim() };
      }
    };
    expect(run('x86_64')).toEqual({ installed: 'binary for amd64', mode: 0o755 });
    expect(run('aarch64')).toEqual({ installed: 'binary for arm64', mode: 0o755 });
    expect(run('riscv64')).toEqual({ failed: 'node gate: no binary for riscv64' });
  });

  it('waits for the chain manifest to list the node, then starts the client on the peer address the manifest gives it', () => {
    // The boot script's own lines, run by bash against stubs: `aws` answers the manifest read
    // (not yet there, then without this node, then with it), `sleep` returns at once, `docker`
    // prints its arguments.
    const s = scripts[0];
    expect(s).not.toMatch(/\b10\.\d+\.\d+\.\d+\b/); // no address in the launch template
    const lines = s.split('\n');
    const from = lines.findIndex((l) => l.startsWith('for attempt in $(seq 1 180)'));
    const wait = lines.slice(from, from + 3).join('\n');
    const start = lines.find((l) => l.startsWith('docker run -d --name blockchain-client'))!;
    const nodeId = /select\(\.id == "([^"]+)"\)/.exec(wait)![1];
    const run = (answers: readonly string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'bt-manifest-wait-'));
      mkdirSync(join(dir, 'bin'));
      answers.forEach((a, i) => writeFileSync(join(dir, `answer-${i + 1}`), a));
      const stub = (name: string, body: string) => {
        writeFileSync(join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
        chmodSync(join(dir, 'bin', name), 0o755);
      };
      // The last answer repeats once the list is exhausted.
      stub('aws', `n=$(( $(cat ${dir}/count 2>/dev/null || echo 0) + 1 )); echo $n > ${dir}/count; f=${dir}/answer-$(( n < ${answers.length} ? n : ${answers.length} )); if [ -s "$f" ]; then cat "$f"; else echo "ResourceNotFoundException" >&2; exit 254; fi`);
      stub('sleep', 'exit 0');
      stub('docker', 'echo "docker $*"');
      const manifest = join(dir, 'chain-manifest.json');
      const script = `set -euo pipefail\nSIGNER_ADDRESS=0x0000000000000000000000000000000000000001\n${wait.replaceAll('/run/chain-manifest.json', manifest)}\n${start.replaceAll('/var/lib/blockchain', dir)}\n`;
      try {
        const out = execFileSync('bash', ['-c', script], { env: { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
        return { tries: Number(readFileSync(join(dir, 'count'), 'utf8')), out };
      } catch (e) {
        return { tries: Number(readFileSync(join(dir, 'count'), 'utf8')), failed: (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() };
      }
    };
    const without = JSON.stringify({ nodes: [{ id: 'another-1', ip: '10.9.9.9' }] });
    const withNode = JSON.stringify({ nodes: [{ id: 'another-1', ip: '10.9.9.9' }, { id: nodeId, ip: '10.1.2.3' }] });
    const listed = run(['', without, withNode]);
    expect(listed.tries).toBe(3);
    expect(listed.out).toMatch(client === BlockchainClient.BESU ? /--p2p-host=10\.1\.2\.3 / : /--nat=extip:10\.1\.2\.3 /);
    expect(listed.out).not.toContain('10.9.9.9');
    // The wait is the same line for every client: its 180 tries run once.
    if (client !== BlockchainClient.BESU) return;
    expect(run([without])).toEqual({
      tries: 180,
      failed: expect.stringMatching(new RegExp(`^node ${nodeId}: the chain manifest \\S+ does not list this node with a peer address after 30 minutes; check the environment's Keys custom resource`)),
    });
  });
});

describe('a geth + Clique environment with signers, a member node and prefunded accounts', () => {
  const stack = new Stack(testApp(), 'G', { env: { region: 'eu-west-1' } });
  new BlockchainEnvironment(stack, 'Env', {
    tenantId: 'acme',
    environmentId: 'dev',
    chain: {
      client: BlockchainClient.GETH,
      consensus: ConsensusProtocol.CLIQUE,
      prefundedAccounts: [{ address: '0xfe3b557e8fb62b89f4916b721be55ceb828dbd73', balance: '1000000000000000000000' }],
      nodes: [
        { id: 'signer-1', member: 'default', role: NodeRole.VALIDATOR },
        { id: 'signer-2', member: 'default', role: NodeRole.VALIDATOR },
        { id: 'member-1', member: 'default', role: NodeRole.MEMBER },
      ],
    },
  });
  const template = Template.fromStack(stack);
  const userData = (node: string) => {
    const lts = Object.entries(template.findResources('AWS::EC2::LaunchTemplate')).filter(([id]) => id.includes(node.replace('-', '')));
    expect(lts).toHaveLength(1);
    return JSON.stringify(lts[0][1].Properties.LaunchTemplateData.UserData);
  };

  it('only signers import the node key as an account, unlock it and mine; the member node does neither', () => {
    for (const signer of ['signer-1', 'signer-2']) {
      const s = userData(signer);
      expect(s).toContain('account import');
      expect(s).toMatch(/ --mine /);
      expect(s).toContain('--unlock=');
    }
    const m = userData('member-1');
    expect(m).toContain(' init ');
    expect(m).not.toContain('account import');
    expect(m).not.toMatch(/ --mine |--unlock|--password=|allow-insecure-unlock|miner\.etherbase/);
    // The same gas rules on every node: what one node accepts, the signers mine.
    for (const node of ['signer-1', 'member-1']) expect(userData(node)).toMatch(/--txpool\.nolocals --miner\.gasprice=1 --txpool\.pricelimit=1 --gpo\.maxprice=1/);
  });

  it('passes the fork and the prefunded addresses (never keys) to the genesis builder', () => {
    template.hasResourceProperties('Custom::BlockchainNodeKeys', {
      EvmVersion: 'london',
      FreeGas: 'true',
      PrefundedAccounts: [{ Address: getAddress('0xfe3b557e8fb62b89f4916b721be55ceb828dbd73'), Balance: '0x3635c9adc5dea00000' }],
    });
  });
});

describe('prefunded accounts and the fork from a tenants config file, as the default app reads it', () => {
  const { app } = buildTenantApp({
    tenants: [
      {
        id: 'acme',
        environments: [
          {
            id: 'dev',
            cidr: '10.10.0.0/16',
            chain: { evmVersion: 'shanghai', prefundedAccounts: [{ address: '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf', balance: '0xDE0B6B3A7640000' }] },
          },
        ],
      },
    ],
  });
  const template = Template.fromJSON(app.synth().getStackByName('AcmeDev').template as Record<string, unknown>);

  it('reach the genesis builder normalized (checksummed address, lowercase hex wei)', () => {
    template.hasResourceProperties('Custom::BlockchainNodeKeys', {
      Client: 'besu',
      EvmVersion: 'shanghai',
      PrefundedAccounts: [{ Address: getAddress('0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'), Balance: '0xde0b6b3a7640000' }],
    });
  });
});

describe('the constructs refuse what the client cannot run', () => {
  it('a fork newer than the client runs, and a key where an address belongs, naming the prop and the fix', () => {
    const stack = new Stack(testApp(), 'R', { env: { region: 'eu-west-1' } });
    const key = '8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63';
    let message = '';
    try {
      new BlockchainEnvironment(stack, 'Env', {
        tenantId: 'acme',
        environmentId: 'dev',
        chain: { client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, evmVersion: EvmVersion.CANCUN, prefundedAccounts: [{ address: key, balance: '1' }] },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/chain\.evmVersion: geth \+ clique cannot run "cancun"; the newest it runs is "london".*Set chain\.evmVersion to "london" or leave it out/);
    expect(message).toMatch(/chain\.prefundedAccounts\[0\]\.address: this looks like a private key/);
    expect(message).not.toContain(key);
  });
});
