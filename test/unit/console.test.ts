import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, cognitoTimestamp, ephemeral, G, hexHash, hexToBytes, hmacSha256, modPow, multiplier, N, padHex, passwordVerifierResponses, sha256 } from '../../console/src/auth/srp';
import { parseRoute } from '../../console/src/routes';
import { parseConsoleConfig } from '../../lib/contracts/console-config';
import { consoleConnectSources, consoleContentSecurityPolicy, consoleSecurityHeaders } from '../../lib/contracts/console-headers';
import { connectionSnippets, withoutCredential } from '../../lib/contracts/connection-snippets';

const config = {
  region: 'eu-west-1',
  apiEndpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/',
  userPoolId: 'eu-west-1_AbCdEf123',
  userPoolClientId: '1example23456789abcdefghij',
  identityPoolId: 'eu-west-1:01234567-89ab-cdef-0123-456789abcdef',
  lifecycle: false,
};

describe('console config.json', () => {
  it('accepts the hosting stack\'s config (trailing slash of the endpoint dropped)', () => {
    expect(parseConsoleConfig(config)).toEqual({ ...config, apiEndpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1' });
    expect(parseConsoleConfig({ ...config, apiEndpoint: 'http://127.0.0.1:4000/v1' }).apiEndpoint).toBe('http://127.0.0.1:4000/v1');
  });
  it.each([
    [{ ...config, region: 'europe' }, /config.json: region "europe" is not valid; give an AWS region code/],
    [{ ...config, apiEndpoint: 'http://api.example.com/v1' }, /apiEndpoint "http:\/\/api.example.com\/v1" is not valid; give the management API base URL/],
    [{ ...config, userPoolId: undefined }, /userPoolId is missing or is not valid/],
    [{ ...config, identityPoolId: 'eu-west-1_x' }, /identityPoolId "eu-west-1_x" is not valid/],
    [{ ...config, lifecycle: 'yes' }, /lifecycle must be true or false/],
    [[], /config.json must be a JSON object/],
  ])('refuses %j naming the field', (value, message) => {
    expect(() => parseConsoleConfig(value)).toThrow(message);
  });
});

describe('console security headers', () => {
  const sources = consoleConnectSources('eu-west-1', 'https://abc123.execute-api.eu-west-1.amazonaws.com');
  it('allows only its own scripts and styles, and connects only to the API and Cognito', () => {
    const csp = consoleContentSecurityPolicy(sources);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(csp).toContain("connect-src 'self' https://abc123.execute-api.eu-west-1.amazonaws.com https://cognito-idp.eu-west-1.amazonaws.com https://cognito-identity.eu-west-1.amazonaws.com;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/^default-src 'none';/);
  });
  it('sends HSTS for two years, nosniff, DENY framing and no referrer', () => {
    expect(consoleSecurityHeaders(sources)).toMatchObject({
      'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  });
});

describe('connection snippets', () => {
  const id = 'btabcdefghijklmnopqrstuvwx';
  const secret = "Sx_-0123456789abcdefghijklmnopqrstuvwxyzABC";
  const url = { node: 'validator-1', https: `https://${id}:${secret}@validator-1.dev.acme.example.com/`, wss: `wss://${id}:${secret}@validator-1.dev.acme.example.com/ws` };
  it('gives ethers v6, web3.js v4 and viem over HTTP and WebSocket, and curl over HTTP', () => {
    expect(connectionSnippets(id, secret, url).map((s) => `${s.library} ${s.transport}`)).toEqual([
      'ethers v6 HTTP',
      'ethers v6 WebSocket',
      'web3.js v4 HTTP',
      'web3.js v4 WebSocket',
      'viem 2 HTTP',
      'viem 2 WebSocket',
      'curl HTTP',
    ]);
    expect(withoutCredential(url.https)).toBe('https://validator-1.dev.acme.example.com/');
    expect(connectionSnippets(id, secret, { node: 'member-1' })).toEqual([]);
  });
  it('every TypeScript snippet compiles, even with quotes in the values', () => {
    for (const s of [...connectionSnippets(id, secret, url), ...connectionSnippets("it's", "a'b\\c", url)].filter((x) => x.language === 'typescript')) {
      expect(() => transformSync(s.code, { loader: 'ts', format: 'esm' }), s.code).not.toThrow();
    }
    const curl = connectionSnippets(id, secret, url).find((s) => s.library === 'curl')!.code;
    expect(curl).toContain(`-u '${id}:${secret}'`);
    expect(curl).toContain("'https://validator-1.dev.acme.example.com/'");
  });
});

describe('console routes', () => {
  it.each([
    ['', { page: 'environments' }],
    ['#/environments', { page: 'environments' }],
    ['#/environments/acme/dev', { page: 'environment', tenantId: 'acme', environmentId: 'dev' }],
    ['#/environments/acme/dev/nodes', { page: 'nodes', tenantId: 'acme', environmentId: 'dev' }],
    ['#/environments/acme/dev/credentials', { page: 'credentials', tenantId: 'acme', environmentId: 'dev' }],
  ])('%s', (hash, route) => expect(parseRoute(hash)).toEqual(route));
});

describe("Cognito SRP (USER_SRP_AUTH): the client's proof checks out with the server's side of SRP-6a", () => {
  const userPoolId = 'eu-west-1_AbCdEf123';
  const userId = 'alice';
  const salt = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  /** What Cognito computes from the verifier it stored at sign-up (v = g^x) and its own b. */
  async function serverSignature(password: string, A: bigint, b: bigint, secretBlock: string, timestamp: string) {
    const k = await multiplier();
    const x = BigInt(`0x${await hexHash(padHex(BigInt(`0x${salt}`)) + toHex(await sha256(new TextEncoder().encode(`AbCdEf123${userId}:${password}`))))}`);
    const v = modPow(G, x, N);
    const B = (k * v + modPow(G, b, N)) % N;
    const u = BigInt(`0x${await hexHash(padHex(A) + padHex(B))}`);
    const S = modPow(A * modPow(v, u, N), b, N);
    const prk = await hmacSha256(hexToBytes(padHex(u)), hexToBytes(padHex(S)));
    const key = (await hmacSha256(prk, new Uint8Array([...new TextEncoder().encode('Caldera Derived Key'), 1]))).slice(0, 16);
    const message = new Uint8Array([...new TextEncoder().encode(`AbCdEf123${userId}`), ...base64ToBytes(secretBlock), ...new TextEncoder().encode(timestamp)]);
    return { B, signature: bytesToBase64(await hmacSha256(key, message)) };
  }

  it('the right password gives the signature the server expects; a wrong one does not', async () => {
    const eph = ephemeral();
    const b = BigInt(`0x${'5'.repeat(256)}`) % N;
    const secretBlock = Buffer.from('opaque secret block from Cognito').toString('base64');
    const now = new Date(Date.UTC(2026, 10, 3, 8, 5, 9));
    const server = await serverSignature('Correct-Horse-9-Battery', eph.A, b, secretBlock, cognitoTimestamp(now));
    const challenge = { SRP_B: server.B.toString(16), SALT: salt, SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userId };
    const right = await passwordVerifierResponses(userPoolId, 'Correct-Horse-9-Battery', eph, challenge, now);
    expect(right).toEqual({ PASSWORD_CLAIM_SECRET_BLOCK: secretBlock, PASSWORD_CLAIM_SIGNATURE: server.signature, TIMESTAMP: 'Tue Nov 3 08:05:09 UTC 2026' });
    const wrong = await passwordVerifierResponses(userPoolId, 'correct-horse-9-battery', eph, challenge, now);
    expect(wrong.PASSWORD_CLAIM_SIGNATURE).not.toBe(server.signature);
  });

  it('pads like Cognito and refuses B = 0 mod N', async () => {
    expect(padHex(0x7fn)).toBe('7f');
    expect(padHex(0x80n)).toBe('0080');
    expect(padHex(0xabcn)).toBe('0abc');
    expect(base64ToBytes('-_8=')).toEqual(base64ToBytes('+/8='));
    const eph = ephemeral();
    await expect(passwordVerifierResponses(userPoolId, 'x', eph, { SRP_B: N.toString(16), SALT: salt, SECRET_BLOCK: 'AA==', USER_ID_FOR_SRP: userId })).rejects.toThrow(/invalid SRP_B/);
  });
});
