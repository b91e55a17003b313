import { createHash } from 'node:crypto';
import { parseIpv4Cidr } from '../config/cidr';

/**
 * The private subnet (availability zone) of a node, from its own id alone, so that adding,
 * removing or reordering other nodes never moves it (a new subnet replaces its instance, its
 * peer interface and its mount target):
 * - an id that ends in a number `n` (`validator-1`, `rpc-007`) takes subnet `(n - 1) mod count`:
 *   numbered series spread evenly over the zones (`validator-1..3` in zones a, b, c);
 * - any other id takes `SHA-256(id)` (first 4 bytes, big-endian) `mod count`.
 */
export function nodeSubnetIndex(nodeId: string, subnetCount: number): number {
  if (!Number.isInteger(subnetCount) || subnetCount < 1) throw new Error(`nodeSubnetIndex: subnetCount ${subnetCount} must be a positive integer`);
  const numbered = /(\d+)$/.exec(nodeId);
  if (numbered) {
    // Only the last 9 digits: the value stays an exact integer.
    const n = Number(numbered[1].slice(-9));
    return (((n - 1) % subnetCount) + subnetCount) % subnetCount;
  }
  return createHash('sha256').update(nodeId, 'utf8').digest().readUInt32BE(0) % subnetCount;
}

/** Where one node lives: its subnet's index among the environment's private subnets. */
export interface NodePlacement {
  readonly subnet: number;
}

/**
 * Every node's subnet ({@link nodeSubnetIndex}), refusing a subnet that would hold more nodes
 * than it has room for: each node takes addresses for its instance, its peer interface and its
 * mount target, and the subnet also holds the VPC endpoints and functions, so at most a quarter of
 * a subnet's addresses go to nodes. The peer addresses themselves are assigned by AWS when a
 * node's peer interface is created and stay with that interface (ADR 14).
 */
export function placeNodes(nodeIds: readonly string[], subnetCidrs: readonly string[]): Record<string, NodePlacement> {
  if (subnetCidrs.length === 0) throw new Error('placeNodes: no private subnets');
  const out: Record<string, NodePlacement> = {};
  const bySubnet = subnetCidrs.map(() => [] as string[]);
  for (const id of nodeIds) {
    const subnet = nodeSubnetIndex(id, subnetCidrs.length);
    out[id] = { subnet };
    bySubnet[subnet].push(id);
  }
  bySubnet.forEach((ids, s) => {
    const cidr = parseIpv4Cidr(subnetCidrs[s]);
    if (typeof cidr === 'string') throw new Error(`placeNodes: subnet ${subnetCidrs[s]} ${cidr}`);
    const capacity = Math.floor((cidr.end - cidr.start + 1) / 4);
    if (ids.length > capacity) {
      throw new Error(
        `NodeFleet: ${ids.length} nodes fall in private subnet ${subnetCidrs[s]} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}), which has room for ${capacity}; ` +
          'use a larger environment cidr (a node\'s subnet derives from its id, see nodeSubnetIndex)',
      );
    }
  });
  return out;
}

/**
 * A warning when the validators are spread over the zones less evenly than they could be (more
 * in one zone than `ceil(validators / zones)`): losing that zone takes more validators with it
 * than necessary. Undefined when the spread is as even as it can be.
 */
export function validatorSpreadWarning(validatorIds: readonly string[], subnetCount: number, zoneNames: readonly string[] = []): string | undefined {
  if (validatorIds.length === 0 || subnetCount < 2) return undefined;
  const byZone = new Map<number, string[]>();
  for (const id of validatorIds) {
    const z = nodeSubnetIndex(id, subnetCount);
    byZone.set(z, [...(byZone.get(z) ?? []), id]);
  }
  const even = Math.ceil(validatorIds.length / subnetCount);
  const crowded = [...byZone.entries()].filter(([, ids]) => ids.length > even);
  if (crowded.length === 0) return undefined;
  const where = crowded.map(([z, ids]) => `${ids.join(', ')} in ${zoneNames[z] ?? `zone ${z + 1}`}`).join('; ');
  return (
    `chain.nodes: the validators are unevenly spread over the ${subnetCount} availability zones (${where}; at most ${even} per zone is possible), so losing one zone stops more validators than necessary. ` +
    "A node's zone derives from its id: ids ending in a number spread by that number (validator-1, validator-2, ... take the zones in turn). Name new validators that way; a deployed node keeps its zone."
  );
}
