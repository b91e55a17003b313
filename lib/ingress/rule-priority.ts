import { createHash } from 'node:crypto';

/** Listener-rule priorities an Application Load Balancer accepts: 1 to 50,000. */
export const MAX_LISTENER_RULE_PRIORITY = 50_000;

/**
 * The listener-rule priority of a node's route: a hash (SHA-256) of the node id into 1..50,000.
 * It depends on the node id alone, so adding, removing or reordering other nodes never moves a
 * node's rule (with list positions, removing a node renumbers the rules after it, and
 * CloudFormation's in-place priority updates collide with the rules that still hold them). The
 * order of the rules does not matter: every node's rule matches only its own host name
 * (`<node>.<domain>`) or its own path (`/nodes/<node>`, `/nodes/<node>/*`), never another's.
 */
export function listenerRulePriority(nodeId: string): number {
  return (createHash('sha256').update(nodeId, 'utf8').digest().readUInt32BE(0) % MAX_LISTENER_RULE_PRIORITY) + 1;
}

/**
 * Node ids whose rules would share a priority (a listener refuses that), as one message per
 * clash naming the nodes and the fix; empty when every priority is unique.
 */
export function listenerRulePriorityClashes(nodeIds: readonly string[]): string[] {
  const byPriority = new Map<number, string[]>();
  for (const id of new Set(nodeIds)) {
    const p = listenerRulePriority(id);
    byPriority.set(p, [...(byPriority.get(p) ?? []), id]);
  }
  return [...byPriority.entries()]
    .filter(([, ids]) => ids.length > 1)
    .map(
      ([p, ids]) =>
        `nodes ${ids.map((id) => `"${id}"`).join(' and ')} hash to the same load balancer listener-rule priority (${p}); ` +
        'priorities derive from node ids so that no change to other nodes ever moves a rule. Give one of them another id: ' +
        'the node you are adding (renaming a deployed node replaces its instance and its file system)',
    );
}
