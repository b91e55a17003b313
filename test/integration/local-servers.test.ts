import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps } from '../../lambda/management/api';
import { NodeRole } from '../../lib';
import { startGethNetwork } from '../../lib/local/geth-network';
import { LocalLambda, serveLocalLambda } from '../../lib/local/local-lambda';
import { ManagementServer, serveManagementApi } from '../../lib/local/management-server';
import { ProcessGroup } from '../../lib/local/processes';
import { gethChain } from '../support/geth';

// The local stand-ins of `blockchain-tenancy local` under hostile input: they must answer as the
// AWS service they replace and never die.
describe('local Lambda Invoke endpoint and management API front', () => {
  let lambda: LocalLambda;
  let api: ManagementServer;
  const ssmCalls: string[] = [];

  beforeAll(async () => {
    lambda = await serveLocalLambda({
      echo: async (event) => ({ got: event }),
      broken: async () => {
        throw new TypeError('boom');
      },
    });
    const deps = {
      ssm: { send: async (c: { constructor: { name: string } }) => (ssmCalls.push(c.constructor.name), { Parameters: [] }) } as unknown as SSMClient,
      ec2: async () => Promise.reject(new Error('no ec2')),
      autoscaling: async () => Promise.reject(new Error('no autoscaling')),
      invokeIssuer: async () => Promise.reject(new Error('no issuer')),
      log: () => undefined,
    } as ManagementDeps;
    api = await serveManagementApi({ deps, credentials: { accessKeyId: 'LOCALKEY', secretAccessKey: 'local-secret' }, region: 'us-east-1' });
  });
  afterAll(async () => {
    await lambda?.close();
    await api?.close();
  });

  const raw = (port: number, request: string) =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.end(request));
      let out = '';
      s.on('data', (d: Buffer) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });

  it('invokes by name or ARN through the real Lambda SDK client; a throwing handler is an Unhandled function error', async () => {
    const client = new LambdaClient({ endpoint: lambda.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    const out = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Payload: Buffer.from('{"a":1}') }));
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ got: { a: 1 } });
    const failed = await client.send(new InvokeCommand({ FunctionName: 'broken', Payload: Buffer.from('{}') }));
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload!).toString())).toEqual({ errorType: 'TypeError', errorMessage: 'boom' });
    await expect(client.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    client.destroy();
  });

  it('answers malformed targets, bad JSON and oversized payloads, and keeps serving', async () => {
    const port = Number(new URL(lambda.endpoint).port);
    expect(await raw(port, 'POST // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 404/);
    expect(await raw(port, 'POST /2015-03-31/functions/%E0%A4%A/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 404/);
    const badJson = await fetch(`${lambda.endpoint}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{nope' });
    expect([badJson.status, badJson.headers.get('x-amzn-errortype')]).toEqual([400, 'InvalidRequestContentException']);
    const big = await fetch(`${lambda.endpoint}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: 'x'.repeat(7 * 1024 * 1024) });
    expect([big.status, big.headers.get('x-amzn-errortype')]).toEqual([413, 'RequestEntityTooLargeException']);
    const still = await fetch(`${lambda.endpoint}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '1' });
    expect(await still.json()).toEqual({ got: 1 });
  });

  it('refuses unsigned, foreign-key, badly signed and malformed requests as API Gateway does, before the handler runs', async () => {
    const port = Number(new URL(api.endpoint).port);
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      return [res.status, await res.json()];
    };
    expect(await get('/v1/environments')).toEqual([403, { message: 'Missing Authentication Token' }]);
    expect(await get('/other')).toEqual([403, { message: 'Missing Authentication Token' }]);
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const auth = (key: string, sig = 'a'.repeat(64)) => `AWS4-HMAC-SHA256 Credential=${key}/${date.slice(0, 8)}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`;
    expect(await get('/v1/environments', { authorization: auth('AKIAOTHER'), 'x-amz-date': date })).toEqual([403, { message: 'The security token included in the request is invalid.' }]);
    expect(await get('/v1/environments', { authorization: auth('LOCALKEY'), 'x-amz-date': date })).toEqual([403, { message: expect.stringMatching(/^The request signature we calculated does not match the signature you provided/) }]);
    expect(await get('/v1/environments', { authorization: auth('LOCALKEY'), 'x-amz-date': '20200101T000000Z' })).toEqual([403, { message: expect.stringMatching(/^Signature expired/) }]);
    expect(await raw(port, 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 403/);
    const big = await fetch(`${api.endpoint}/environments`, { method: 'POST', body: 'x'.repeat(11 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(ssmCalls).toEqual([]); // nothing reached the handler
    expect((await fetch(`${api.endpoint}/environments`)).status).toBe(403); // still serving
  });
});

// The geth network starter when a client will not start: it says which node and why, with every
// node's last lines, and leaves nothing behind (no process, no temporary directory).
describe('local geth network start-up failure', () => {
  it('reports the node that died with the nodes\' log tails, stops the others and removes its directory', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'fake-geth-'));
    try {
      // `geth --datadir D init|account ...` succeed; the node itself refuses to start.
      const fake = join(bin, 'geth');
      // (It records the data directories it is given: the starter's own directory is in them.)
      const datadirs = join(bin, 'datadirs');
      // member-1 fails at once; validator-1 (the node the starter waits for first) fails only once
      // member-1 has written its line (at most 20 s later), so the report holds both nodes' lines
      // however the two processes are scheduled (on a loaded machine member-1 may start last).
      const written = join(bin, 'member-1-failed');
      writeFileSync(
        fake,
        [
          '#!/bin/sh',
          `case "$3" in init|account) echo "$2" >>'${datadirs}'; exit 0;; esac`,
          `case "$*" in *member-1*) echo "Fatal: fake geth will not start on $$" >&2; touch '${written}'; exit 1;; esac`,
          `i=0; while [ ! -f '${written}' ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done`,
          'echo "Fatal: fake geth will not start on $$" >&2',
          'exit 1',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      // The starter makes its directory in os.tmpdir(): a private one here, so that no other
      // process's directory (test files run in parallel) can be taken for a leftover.
      const ownTmp = mkdtempSync(join(bin, 'tmp-'));
      const processes = new ProcessGroup();
      const chain = gethChain({ chainId: 424242, blockPeriodSeconds: 1, nodes: [{ id: 'validator-1', member: 'default', role: NodeRole.VALIDATOR }, { id: 'member-1', member: 'default', role: NodeRole.MEMBER }] });
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = ownTmp;
      const failure = await startGethNetwork({ geth: fake, chain, processes, startTimeoutMs: 20_000 })
        .then(
          () => undefined,
          (e: Error) => e,
        )
        .finally(() => {
          if (savedTmp === undefined) delete process.env.TMPDIR;
          else process.env.TMPDIR = savedTmp;
        });
      const given = readFileSync(datadirs, 'utf8').trim().split('\n');
      expect(given.length).toBeGreaterThan(0);
      for (const d of given) expect(d.startsWith(join(ownTmp, 'blockchain-tenancy-geth-'))).toBe(true);
      expect(readdirSync(ownTmp)).toEqual([]);
      expect(failure?.message).toMatch(/^geth validator-1 on http:\/\/127\.0\.0\.1:\d+: geth validator-1 exited \(code 1\)/);
      expect(failure?.message).toContain("the nodes' logs end with:");
      expect(failure?.message).toMatch(/--- member-1 \(member\)\nFatal: fake geth will not start/);
      expect(processes.processes.map((p) => p.name)).toEqual(['geth validator-1', 'geth member-1']);
      expect(processes.processes.every((p) => p.exited())).toBe(true);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
