#!/usr/bin/env node
/**
 * blockchain-tenancy: the management CLI. Requests are signed with SigV4 (service execute-api)
 * from the default AWS credential chain (or --profile). See `blockchain-tenancy --help`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { EXIT, ParsedArgs, UsageError, commandHelp, describeFetchError, packageVersion, parseCommandLine, render } from './cli';

/** How long one API request may take before the CLI gives up (exit 3). */
const REQUEST_TIMEOUT_MS = 30_000;

async function main(argv: string[]): Promise<number> {
  let line;
  try {
    line = parseCommandLine(argv, process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      const help = e.command ? `\n\n${commandHelp(e.command).split('\n')[0]}\n(\`blockchain-tenancy ${e.command.name} --help\` for details)` : '';
      console.error(`blockchain-tenancy: ${e.message}${help}`);
      return EXIT.USAGE;
    }
    throw e;
  }
  switch (line.kind) {
    case 'help':
      console.log(line.text);
      return EXIT.OK;
    case 'version':
      console.log(`blockchain-tenancy ${packageVersion()}`);
      return EXIT.OK;
    case 'local': {
      // Loaded only for this command: it starts processes and loads argon2 and the AWS SDK.
      let local: typeof import('../lib/local/local-command');
      try {
        local = await import('../lib/local/local-command');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
        // The npm package ships the constructs, their prebuilt assets and this CLI, not the
        // runtime sources the local environment runs (gate, authorizer, issuer).
        console.error(
          'blockchain-tenancy local runs from a checkout of the repository, not from the installed package: ' +
            'clone it, then `npm ci && npm run local` (it needs the gate, authorizer and issuer sources, geth 1.13.15 and moto, which the package does not ship)',
        );
        return EXIT.API_ERROR;
      }
      return local.runLocalCommand(line.args);
    }
    case 'api':
      return callApi(line.args);
  }
}

async function callApi(args: ParsedArgs): Promise<number> {
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
    console.error(`blockchain-tenancy: no AWS credentials (${(e as Error).name}: ${(e as Error).message}); configure the default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, aws configure, SSO) or pass --profile NAME`);
    return EXIT.UNREACHABLE;
  }
  let res: Response;
  try {
    res = await fetch(url, { method: args.plan.method, headers: signed.headers as Record<string, string>, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(body ? { body } : {}) });
  } catch (e) {
    console.error(`blockchain-tenancy: ${describeFetchError(e, base)}`);
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
