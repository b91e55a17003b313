/**
 * The node -> member ownership map as the authorizer receives it (its NODE_MEMBERS environment
 * variable). Lambda allows 4 KB of environment variables in all, so the map is written grouped by
 * member (`{"acme":["validator-1","validator-2"]}`): every member id appears once.
 */

/** Lambda's limit on the total size of a function's environment variables (keys and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Encodes node -> member as member -> nodes (JSON). */
export function encodeNodeMembers(nodeMembers: Readonly<Record<string, string>>): string {
  const byMember: Record<string, string[]> = {};
  for (const [node, member] of Object.entries(nodeMembers)) (byMember[member] ??= []).push(node);
  return JSON.stringify(byMember);
}

/**
 * Decodes NODE_MEMBERS: the grouped form above, or the older flat form (node -> member). Anything
 * else gives an empty map, so every node check fails closed.
 */
export function decodeNodeMembers(text: string | undefined): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) for (const node of value) if (typeof node === 'string') out[node] = key;
  }
  return out;
}

/** Bytes of a function's environment variables as Lambda counts them (keys plus values). */
export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Object.entries(variables).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}
