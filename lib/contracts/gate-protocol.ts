/**
 * The node gate's wire protocol (pure; shared by both gate implementations: lambda/node-gate in
 * TypeScript and gate/ in Go, whose constants scripts/gate-contracts.ts generates from this file
 * and the other contracts). Error codes and messages of the gate's own answers, the limits and
 * time bounds of a request, and the request the gate sends the environment's authorizer.
 */

/** JSON-RPC error codes of the gate's own answers. */
export const GateErrorCodes = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_ALLOWED: -32601,
  INTERNAL: -32603,
  UNAUTHORIZED: -32001,
  UNAVAILABLE: -32002,
  TIMEOUT: -32003,
  TOO_LARGE: -32004,
  NODE_UNAVAILABLE: -32005,
} as const;

/**
 * The JSON-RPC error (code, message) of each HTTP status the gate itself answers. Messages never
 * contain the request's credential.
 */
export const GATE_REFUSALS: Readonly<Record<number, readonly [number, string]>> = {
  400: [GateErrorCodes.INVALID_REQUEST, 'bad request'],
  401: [GateErrorCodes.UNAUTHORIZED, 'unauthorized: this endpoint needs a valid app credential for this node, as an Authorization: Basic header (base64 of ID:SECRET) or in the URL (https://ID:SECRET@host/); it may be wrong, expired or revoked'],
  404: [GateErrorCodes.INVALID_REQUEST, 'not found: JSON-RPC is served by POST on / and by WebSocket on /ws'],
  405: [GateErrorCodes.INVALID_REQUEST, 'send JSON-RPC as an HTTP POST (or open a WebSocket on /ws)'],
  408: [GateErrorCodes.TIMEOUT, 'request timeout: the request did not arrive completely in time'],
  413: [GateErrorCodes.TOO_LARGE, 'request too large'],
  500: [GateErrorCodes.INTERNAL, 'internal error in the node gate'],
  502: [GateErrorCodes.NODE_UNAVAILABLE, "the node's client did not answer (it may be restarting); try again"],
  503: [GateErrorCodes.UNAVAILABLE, 'the credential check is unavailable; try again in a few seconds'],
  504: [GateErrorCodes.NODE_UNAVAILABLE, "the node's client did not answer in time"],
};

/** The WWW-Authenticate header of a 401. */
export const GATE_WWW_AUTHENTICATE = 'Basic realm="blockchain", charset="UTF-8"';

/**
 * The members a JSON-RPC 2.0 request may have. Anything else refuses the call: geth and GoQuorum
 * decode requests with Go's encoding/json, which matches member names case-insensitively, so
 * `{"method":"eth_blockNumber","METHOD":"eth_sendTransaction"}` would pass a check of `method`
 * and run eth_sendTransaction on the node.
 */
export const JSON_RPC_MEMBERS: readonly string[] = ['jsonrpc', 'id', 'method', 'params'];

/** JSON nested deeper than this is refused before anything else looks at it. */
export const MAX_NESTING = 64;
/** Largest request body or WebSocket message (bytes). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A request body must arrive within this time once its headers have (else 408). */
export const REQUEST_BODY_TIMEOUT_SECONDS = 30;
/** A WebSocket upgrade must be authorized and connected to the client within this time (else 504). */
export const UPGRADE_TIMEOUT_SECONDS = 10;
/** Request headers must arrive within this time. */
export const HEADERS_TIMEOUT_SECONDS = 60;
/** One authorizer call may take this long; then it counts as unreachable (503). */
export const AUTHORIZE_TIMEOUT_SECONDS = 10;
/** While the authorizer is unreachable, cached allows keep serving this long. */
export const STALE_ALLOW_SECONDS = 600;
/** Most cached decisions (LRU). */
export const DECISION_CACHE_ENTRIES = 10_000;
/** Concurrent misses for one credential join an authorizer call at most this old. */
export const AUTHORIZE_JOIN_SECONDS = 5;
/** How long one `/health` answer is reused (the endpoint needs no credential: it must not amplify). */
export const HEALTH_CACHE_MS = 1_000;
/** A `/health` probe of the client that takes longer fails. */
export const HEALTH_PROBE_TIMEOUT_MS = 5_000;
/** Mixed WebSocket batches waiting for the client's answer, per socket. */
export const MAX_PENDING_BATCHES = 64;
/** How often the gate publishes its metrics. */
export const GATE_METRICS_INTERVAL_SECONDS = 60;

/** Header that carries the target node in the gate's authorizer request (API Gateway passes path parameters instead). */
export const NODE_HEADER = 'x-blockchain-node';

/** The methodArn of the gate's authorizer request for a node (the authorizer echoes it in its policy). */
export function gateMethodArn(nodeId: string): string {
  return `arn:aws:execute-api:gate:node/${nodeId}`;
}
