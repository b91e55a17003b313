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

/** The longest idle timeout an Application Load Balancer accepts (seconds). */
export const ALB_MAX_IDLE_TIMEOUT_SECONDS = 4000;

/**
 * How long the node gate keeps an idle client (load balancer) connection (seconds): longer than
 * any ALB idle timeout, or the ALB may reuse a connection the gate is closing and answer 502.
 */
export const GATE_KEEP_ALIVE_SECONDS = ALB_MAX_IDLE_TIMEOUT_SECONDS + 50;
