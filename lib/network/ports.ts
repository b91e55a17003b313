/** Well-known ports of an environment, shared by the network, nodes and ingress constructs. */
export const Ports = {
  /** HTTPS on the load balancer. */
  HTTPS: 443,
  /** HTTP on the load balancer: answers only with a redirect to HTTPS. */
  HTTP_REDIRECT: 80,
  /** The node auth gate (the only port the load balancer reaches on a node). */
  NODE_GATE: 8080,
  /** Ethereum devp2p (TCP and UDP discovery). */
  P2P: 30303,
  /** NFS, for EFS mount targets. */
  NFS: 2049,
} as const;
