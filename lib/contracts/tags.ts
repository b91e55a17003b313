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
  /**
   * On functions the management API may invoke: what the function is (`credential-issuer`).
   * Authorizers and deploy-time functions do not carry it, so the API cannot invoke them.
   */
  FUNCTION: 'blockchain-tenancy:function',
} as const;

/** Value of {@link EnvironmentTags.FUNCTION} on credential issuers: the only functions the management API may invoke. */
export const CREDENTIAL_ISSUER_FUNCTION_TAG = 'credential-issuer';
