#!/usr/bin/env node
/**
 * blockchain-tenancy: the management CLI. Requests are signed with SigV4 (service execute-api)
 * from the default AWS credential chain (or --profile). See `blockchain-tenancy --help`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { EXIT, ParsedArgs, UsageError, commandHelp, describeFetchError, packageVersion, parseCommandLine, render } from './cli';
import { ApiRequest, ApiUnreachable, Terminal, runLifecycle } from './lifecycle-commands';

/** The largest file the control-plane commands read (API Gateway's request payload limit). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

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
    case 'lifecycle':
      return runLifecycle(line.args, signedRequester(line.args), processTerminal(line.args.json));
  }
}

/** Where and as whom the CLI calls the API. */
interface Connection {
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
}

/**
 * One SigV4-signed request to the API (path below the base URL, with its query). Throws
 * ApiUnreachable (exit 3) when there are no credentials or no answer; returns any answer.
 */
function signedRequester(conn: Connection): ApiRequest {
  const base = new URL(conn.endpoint!.replace(/\/+$/, ''));
  const signer = new SignatureV4({
    credentials: fromNodeProviderChain(conn.profile ? { profile: conn.profile } : {}),
    region: conn.region!,
    service: 'execute-api',
    sha256: Sha256,
  });
  return async (method, path, json, extraHeaders = {}) => {
    const url = new URL(base.pathname + path, base);
    const body = json === undefined ? undefined : JSON.stringify(json);
    let signed;
    try {
      const query: Record<string, string> = {};
      url.searchParams.forEach((v, k) => (query[k] = v));
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { host: url.host, ...extraHeaders, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body } : {}),
      });
    } catch (e) {
      throw new ApiUnreachable(`no AWS credentials (${(e as Error).name}: ${(e as Error).message}); configure the default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, aws configure, SSO) or pass --profile NAME`, false);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers: signed.headers as Record<string, string>, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(body ? { body } : {}) });
    } catch (e) {
      throw new ApiUnreachable(describeFetchError(e, base));
    }
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) parsed = { error: { message: text.slice(0, 200) } };
    } catch {
      parsed = { error: { message: text.slice(0, 200) || res.statusText } };
    }
    return { status: res.status, body: parsed };
  };
}

async function callApi(args: ParsedArgs): Promise<number> {
  let answer;
  try {
    answer = await signedRequester(args)(args.plan.method, args.plan.path, args.plan.body);
  } catch (e) {
    if (!(e instanceof ApiUnreachable)) throw e;
    console.error(`blockchain-tenancy: ${e.message}`);
    return EXIT.UNREACHABLE;
  }
  const parsed = answer.body;
  if (answer.status >= 300) {
    const err = (parsed.error ?? parsed) as { message?: string; field?: string };
    if (args.json) console.log(JSON.stringify({ status: answer.status, ...parsed }, null, 2));
    else console.error(`blockchain-tenancy: ${answer.status} ${err.message ?? (parsed as { message?: string }).message ?? ''}${err.field ? ` (field: ${err.field})` : ''}`);
    return EXIT.API_ERROR;
  }
  console.log(args.json ? JSON.stringify(parsed, null, 2) : render(args.plan.kind, parsed));
  return EXIT.OK;
}

/** The process as the control-plane commands see it: stdout, stderr, a spinner on a terminal, files, a clock. */
function processTerminal(json: boolean): Terminal {
  const FRAMES = ['|', '/', '-', '\\'];
  let timer: NodeJS.Timeout | undefined;
  let label: string | undefined;
  let frame = 0;
  // A spinner only on a terminal (and never with --json): pipes and CI logs get the lines alone.
  const spinning = process.stderr.isTTY === true && !json;
  const draw = () => process.stderr.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${label}`);
  return {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    spin: (text) => {
      if (!spinning) return;
      label = text;
      if (text === undefined) {
        if (timer) clearInterval(timer);
        timer = undefined;
        process.stderr.write('\r\x1b[K');
        return;
      }
      if (!timer) timer = setInterval(draw, 120);
      draw();
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    readFile: (path) => {
      // A device or FIFO (/dev/zero) would never end, and API Gateway refuses bodies over 10 MB.
      const stat = statSync(path);
      if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a regular file' });
      if (stat.size > MAX_FILE_BYTES) throw Object.assign(new Error('too large'), { code: `${stat.size} bytes, more than the API's 10 MB request limit` });
      return readFileSync(path, 'utf8');
    },
    writeFile: (path, text) => writeFileSync(path, text),
    newKey: () => randomUUID(),
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`blockchain-tenancy: ${(e as Error).message}`);
    process.exit(EXIT.UNREACHABLE);
  },
);
