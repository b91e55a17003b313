/**
 * Tag keys every resource of an environment carries. The management API's IAM policies use them
 * in `aws:ResourceTag` conditions, so a caller can never act on another environment's resources.
 */
export const EnvironmentTags = {
  /** The tenant id. */
  TENANT: 'blockchain-tenancy:tenant',
  /** The environment id (unique within the tenant). */
  ENVIRONMENT: 'blockchain-tenancy:environment',
  /** On node resources (ASG, propagated to instances, file system): the node id. */
  NODE: 'blockchain-tenancy:node',
  /** On node resources: the id of the member (organisation) that owns the node. */
  MEMBER: 'blockchain-tenancy:member',
} as const;
