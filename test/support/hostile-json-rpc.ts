/**
 * Generated hostile JSON-RPC input for the gate's fuzz test: deterministic for a seed. Each case is
 * raw bytes (not always JSON, not always UTF-8) meant for an HTTP body or a WebSocket frame.
 */
import { STANDARD_METHODS } from '../../lib/contracts/rpc-policy';

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Methods the gate must refuse (node keys, node state, administration), in several spellings. */
export const REFUSED_SAMPLES = [
  'eth_accounts', 'eth_coinbase', 'eth_etherbase', 'eth_sign', 'eth_signTransaction', 'eth_sendTransaction', 'eth_resend',
  'eth_pendingTransactions', 'eth_fillTransaction', 'eth_mining', 'eth_hashrate', 'net_peerCount', 'rpc_modules',
  'personal_unlockAccount', 'personal_sign', 'admin_nodeInfo', 'admin_addPeer', 'miner_start', 'miner_setEtherbase', 'debug_traceTransaction',
  'debug_setHead', 'txpool_content', 'clique_propose', 'evm_mine', 'evm_setAccountBalance', 'ganache_setAccountBalance', 'eth_signTypedData_v4',
  'ETH_ACCOUNTS', 'Eth_Accounts', 'eth_accounts ', ' eth_accounts', 'eth_accounts\u0000', 'eth_accountſ', 'Admin_nodeInfo', 'eth_', '', 'eth_Accounts',
];
/** Cheap allowed calls (the node answers fast, whatever the params). */
export const CHEAP_ALLOWED = ['eth_chainId', 'eth_blockNumber', 'net_version', 'web3_clientVersion', 'eth_gasPrice', 'eth_syncing', 'net_listening', 'eth_getBalance', 'eth_getCode', 'eth_getTransactionCount'];

export interface HostileCase {
  readonly kind: string;
  readonly bytes: Buffer;
}

export function hostileCases(seed: number, count: number): HostileCase[] {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const ids = () => pick(['1', '"a"', 'null', '9007199254740993', '1e400', '-1e-400', '123456789012345678901234567890', '"\\u0000"', '{"x":1}', '[1]', 'true', '0.1', `"${'i'.repeat(int(64))}"`, String(int(1e9))]);
  const method = () => (r() < 0.5 ? pick(CHEAP_ALLOWED) : r() < 0.8 ? pick(REFUSED_SAMPLES) : pick(STANDARD_METHODS));
  const params = (): string => {
    switch (int(8)) {
      case 0:
        return '[]';
      case 1:
        return `["0x${'0'.repeat(40)}","latest"]`;
      case 2: {
        const d = 1 + int(3000);
        return '['.repeat(d) + ']'.repeat(d);
      }
      case 3: {
        const d = 1 + int(200);
        return '{"a":'.repeat(d) + '1' + '}'.repeat(d);
      }
      case 4:
        return `[${Array.from({ length: int(5000) }, () => int(10)).join(',')}]`;
      case 5:
        return `["${'x'.repeat(int(100_000))}"]`;
      case 6:
        return `[1e400,-0,9007199254740993,${'9'.repeat(400)}]`;
      default:
        return `"not-an-array"`;
    }
  };
  const call = (): string => {
    const m = JSON.stringify(method());
    switch (int(10)) {
      case 0:
        return `{"jsonrpc":"2.0","id":${ids()},"method":${m},"METHOD":"eth_sendTransaction"}`;
      case 1:
        return `{"jsonrpc":"2.0","id":${ids()},"method":"eth_chainId","method":${m}}`;
      case 2:
        return `{"jsonrpc":"2.0","id":${ids()},"\\u006dethod":${m}}`;
      case 3:
        return `{"jsonrpc":"2.0","id":${ids()},"Method":"eth_accounts","method":"eth_chainId"}`;
      case 4:
        return `{"jsonrpc":"2.0","method":${m},"params":${params()}}`;
      case 5:
        return `{"jsonrpc":"2.0","id":${ids()},"method":${m},"params":${params()},"extra":1}`;
      case 6:
        return pick(['1', '"x"', 'null', 'true', '[]', '{}']);
      default:
        return `{"jsonrpc":"2.0","id":${ids()},"method":${m},"params":${r() < 0.7 ? '[]' : params()}}`;
    }
  };
  const out: HostileCase[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pick(['call', 'call', 'batch', 'batch', 'deep', 'truncated', 'utf8', 'huge', 'numbers', 'garbage']);
    let text: string;
    let bytes: Buffer | undefined;
    switch (kind) {
      case 'batch':
        text = `[${Array.from({ length: r() < 0.05 ? 101 + int(50) : 1 + int(12) }, call).join(',')}]`;
        break;
      case 'deep': {
        const d = 50 + int(20_000);
        text = r() < 0.5 ? `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${'['.repeat(d)}${']'.repeat(d)}}` : `${'['.repeat(d)}${']'.repeat(d)}`;
        break;
      }
      case 'truncated': {
        const full = r() < 0.5 ? call() : `[${call()},${call()}]`;
        text = full.slice(0, int(full.length));
        break;
      }
      case 'utf8':
        bytes = Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["`), Buffer.from([pick([0xff, 0xc0, 0xed, 0xf8, 0x80]), 0xa0, 0x80]), Buffer.from('"]}')]);
        text = '';
        break;
      case 'huge':
        text = r() < 0.5 ? `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["${'a'.repeat(r() < 0.1 ? 1_048_576 : 1000 + int(200_000))}"]}` : `[${Array.from({ length: 60 }, () => `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[${'1,'.repeat(int(2000))}1]}`).join(',')}]`;
        break;
      case 'numbers':
        text = `{"jsonrpc":"2.0","id":${pick(['9007199254740993', '1e400', '-0', '1E+2', '123456789012345678901234567890.5'])},"method":${JSON.stringify(method())},"params":[1e400]}`;
        break;
      case 'garbage':
        text = pick(['', ' ', 'null', '{', '}', '[', ']', '[,]', '{"a":}', '\u0000', 'NaN', 'Infinity', '"\\ud800"', '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}}', '\ufeff{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}']);
        break;
      default:
        text = call();
    }
    out.push({ kind, bytes: bytes ?? Buffer.from(text, 'utf8') });
  }
  return out;
}
