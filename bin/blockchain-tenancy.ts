#!/usr/bin/env node
/**
 * blockchain-tenancy: the management CLI. Requests are signed with SigV4 (service execute-api)
 * from the default AWS credential chain (or --profile). See `blockchain-tenancy --help`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { EXIT, USAGE, UsageError, parseArgs, render } from './cli';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  let args;
  try {
    args = parseArgs(argv, process.env);
    if (!args.endpoint) throw new UsageError('no endpoint: pass --endpoint https://<api>/v1 or set BLOCKCHAIN_TENANCY_ENDPOINT');
    if (!args.region) throw new UsageError('no region: pass --region or set AWS_REGION');
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`blockchain-tenancy: ${e.message}\n\n${USAGE}`);
      return EXIT.USAGE;
    }
    throw e;
  }
  const base = new URL(args.endpoint!.replace(/\/+$/, ''));
  const url = new URL(base.pathname + args.plan.path, base);
  const body = args.plan.body ? JSON.stringify(args.plan.body) : undefined;
  let signed;
  try {
    const signer = new SignatureV4({
      credentials: fromNodeProviderChain(args.profile ? { profile: args.profile } : {}),
      region: args.region!,
      service: 'execute-api',
      sha256: Sha256,
    });
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    signed = await signer.sign({
      method: args.plan.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { host: url.host, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body } : {}),
    });
  } catch (e) {
    console.error(`blockchain-tenancy: no AWS credentials (${(e as Error).name}); configure a profile or the default credential chain`);
    return EXIT.UNREACHABLE;
  }
  let res: Response;
  try {
    res = await fetch(url, { method: args.plan.method, headers: signed.headers as Record<string, string>, ...(body ? { body } : {}) });
  } catch (e) {
    console.error(`blockchain-tenancy: ${url.origin} is unreachable (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
    return EXIT.UNREACHABLE;
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { error: { message: text.slice(0, 200) || res.statusText } };
  }
  if (!res.ok) {
    const err = (parsed.error ?? parsed) as { message?: string; field?: string };
    if (args.json) console.log(JSON.stringify({ status: res.status, ...parsed }, null, 2));
    else console.error(`blockchain-tenancy: ${res.status} ${err.message ?? (parsed as { message?: string }).message ?? ''}${err.field ? ` (field: ${err.field})` : ''}`);
    return EXIT.API_ERROR;
  }
  console.log(args.json ? JSON.stringify(parsed, null, 2) : render(args.plan.kind, parsed));
  return EXIT.OK;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`blockchain-tenancy: ${(e as Error).message}`);
    process.exit(EXIT.UNREACHABLE);
  },
);
