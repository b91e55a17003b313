/** Secret layout of an environment's nodes (shared by the custom resource, the nodes and tests). */

/** Prefix of every node secret of an environment. */
export function nodeSecretPrefix(tenantId: string, environmentId: string): string {
  return `blockchain-tenancy/${tenantId}/${environmentId}/nodes/`;
}

/** The secret holding one node's private key (JSON `{ "privateKey": "0x..." }`). */
export function nodeKeySecretName(tenantId: string, environmentId: string, nodeId: string): string {
  return `${nodeSecretPrefix(tenantId, environmentId)}${nodeId}/key`;
}

/** The secret holding the chain manifest (public data: genesis, static nodes, node identities). */
export function chainManifestSecretName(tenantId: string, environmentId: string): string {
  return `${nodeSecretPrefix(tenantId, environmentId)}chain-manifest`;
}

/** The public chain manifest every node reads at boot. */
export interface ChainManifest {
  readonly genesis: Record<string, unknown>;
  /** enode URLs of every node (static nodes / bootnodes / Raft peers). */
  readonly staticNodes: readonly string[];
  readonly nodes: readonly { readonly id: string; readonly ip: string; readonly validator: boolean; readonly address: string; readonly enodeId: string }[];
}
