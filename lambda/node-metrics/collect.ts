/**
 * Reads a node's health from its local JSON-RPC endpoint (127.0.0.1 only; the client's own
 * metrics port never leaves the node).
 */

/** One sample of a node's health. */
export interface NodeSample {
  /** Latest block number, or undefined when the RPC did not answer. */
  readonly blockHeight?: number;
  /** Connected peers, or undefined when the RPC did not answer. */
  readonly peerCount?: number;
  /** Whether the RPC answered both calls. */
  readonly rpcUp: boolean;
  /** Why the RPC was down (no secrets: a status code or an error code). */
  readonly error?: string;
}

type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Collects one sample with a batch JSON-RPC call (eth_blockNumber + net_peerCount). */
export async function collectSample(rpcUrl: string, timeoutMs = 3000, fetchImpl: FetchLike = fetch): Promise<NodeSample> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'net_peerCount', params: [] },
      ]),
      signal: controller.signal,
    });
    if (!res.ok) return { rpcUp: false, error: `http ${res.status}` };
    const body = await res.json();
    if (!Array.isArray(body)) return { rpcUp: false, error: 'not a batch response' };
    const byId = new Map<number, unknown>();
    for (const item of body) {
      if (item && typeof item === 'object' && 'id' in item && 'result' in item) {
        byId.set(Number((item as { id: unknown }).id), (item as { result: unknown }).result);
      }
    }
    const blockHeight = hexQuantity(byId.get(1));
    const peerCount = hexQuantity(byId.get(2));
    if (blockHeight === undefined || peerCount === undefined) {
      return { rpcUp: false, error: 'missing result', ...(blockHeight !== undefined ? { blockHeight } : {}) };
    }
    return { rpcUp: true, blockHeight, peerCount };
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string }; code?: string };
    return { rpcUp: false, error: err.name === 'AbortError' ? 'timeout' : (err.cause?.code ?? err.code ?? 'unreachable') };
  } finally {
    clearTimeout(timer);
  }
}

/** Parses an Ethereum JSON-RPC hex quantity ("0x1a") into a safe integer. */
export function hexQuantity(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,13}$/.test(value)) return undefined;
  return parseInt(value.slice(2), 16);
}
