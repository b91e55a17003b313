import { Sha256 } from '@aws-crypto/sha256-js';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps } from '../../lambda/management/api';
import { ManagementServer, serveManagementApi } from '../../lib/local/management-server';

// The local management API front as the web console meets it (test/browser/console.test.ts runs
// the console against it; there Playwright answers CORS preflights itself, so they are checked
// here): temporary credentials with their session token, as an identity pool issues them, and
// CORS for the console's origin, on answers and refusals alike.
describe('local management API: temporary credentials and CORS for the console', () => {
  let api: ManagementServer;
  const ssmCalls: string[] = [];
  const ORIGIN = 'https://console.example.com';
  const temp = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', sessionToken: 'session-token-1' };

  beforeAll(async () => {
    const deps = {
      ssm: { send: async (c: { constructor: { name: string } }) => (ssmCalls.push(c.constructor.name), { Parameters: [] }) } as unknown as SSMClient,
      ec2: async () => Promise.reject(new Error('no ec2')),
      autoscaling: async () => Promise.reject(new Error('no autoscaling')),
      invokeIssuer: async () => Promise.reject(new Error('no issuer')),
      log: () => undefined,
    } as ManagementDeps;
    api = await serveManagementApi({
      deps,
      credentials: { accessKeyId: 'LOCALKEY', secretAccessKey: 'local-secret' },
      resolveCredentials: (id) => (id === temp.accessKeyId ? temp : undefined),
      corsAllowOrigin: ORIGIN,
      region: 'us-east-1',
    });
  });
  afterAll(() => api?.close());

  const signedGet = async (creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => {
    const url = new URL(`${api.endpoint}/environments`);
    const signer = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
    const headers = { ...signed.headers } as Record<string, string>;
    delete headers.host;
    const res = await fetch(url, { headers: { ...headers, origin: ORIGIN } });
    return { status: res.status, body: (await res.json()) as unknown, allowOrigin: res.headers.get('access-control-allow-origin') };
  };

  it('answers the CORS preflight without authorization, naming the signing headers', async () => {
    const res = await fetch(`${api.endpoint}/environments/acme/dev/nodes/validator-1/reboot`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-amz-date,x-amz-security-token,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    for (const h of ['authorization', 'x-amz-date', 'x-amz-security-token', 'content-type']) expect(res.headers.get('access-control-allow-headers')).toContain(h);
    expect(ssmCalls).toEqual([]);
  });

  it('accepts a request signed with the temporary credentials and their session token', async () => {
    expect(await signedGet(temp)).toEqual({ status: 200, body: { environments: [] }, allowOrigin: ORIGIN });
    expect(ssmCalls).toEqual(['GetParametersByPathCommand']);
  });

  it('refuses a missing or other session token, a wrong secret and an unknown key, with CORS so the console can read why', async () => {
    const before = ssmCalls.length;
    expect(await signedGet({ accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey })).toEqual({ status: 403, body: { message: 'The security token included in the request is invalid.' }, allowOrigin: ORIGIN });
    expect(await signedGet({ ...temp, sessionToken: 'session-token-2' })).toMatchObject({ status: 403, body: { message: 'The security token included in the request is invalid.' } });
    expect(await signedGet({ ...temp, secretAccessKey: 'not-the-secret' })).toMatchObject({ status: 403, body: { message: expect.stringMatching(/^The request signature we calculated does not match/) } });
    expect(await signedGet({ accessKeyId: 'ASIAOTHER', secretAccessKey: 'x', sessionToken: 'y' })).toMatchObject({ status: 403, body: { message: 'The security token included in the request is invalid.' }, allowOrigin: ORIGIN });
    expect(ssmCalls.length).toBe(before);
  });
});
