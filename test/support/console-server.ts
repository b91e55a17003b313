import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { ConsoleConfig } from '../../lib/contracts/console-config';
import { consoleConnectSources, consoleSecurityHeaders } from '../../lib/contracts/console-headers';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface ConsoleServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Serves the built console (dist/assets/console) as CloudFront serves it from S3: the files, the
 * same security headers (lib/contracts/console-headers.ts), `/` as index.html, and `/config.json`.
 * `config` gets the server's own origin so it can name it.
 */
export async function serveConsole(dir: string, config: (origin: string) => ConsoleConfig): Promise<ConsoleServer> {
  const state: { cfg?: ConsoleConfig; headers: Record<string, string> } = { headers: {} };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const send = (status: number, type: string, body: string | Buffer, cache = 'no-cache') => res.writeHead(status, { ...state.headers, 'content-type': type, 'cache-control': cache }).end(body);
    if (path === '/config.json') return send(200, 'application/json', JSON.stringify(state.cfg));
    const file = path === '/' ? 'index.html' : normalize(path.slice(1));
    if (file.startsWith('..') || file.includes('\0')) return send(403, 'text/plain', 'forbidden');
    try {
      if (!statSync(join(dir, file)).isFile()) throw new Error('not a file');
      // Hashed names may be cached forever; index.html never (it names the current hashes).
      return send(200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(join(dir, file)), file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable');
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cfg = config(url);
  state.cfg = cfg;
  state.headers = consoleSecurityHeaders(consoleConnectSources(cfg.region, new URL(cfg.apiEndpoint).origin));
  return {
    url,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret, as authenticator apps compute it. */
export function totp(base32Secret: string, at: number = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32Secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
