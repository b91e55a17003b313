/** Environment registration format (pure: shared by the construct and the management API). */

/** Where environments register themselves (one String parameter each, JSON value). */
export const REGISTRATION_PREFIX = '/blockchain-tenancy/environments/';

/** The registration of one environment: what the management API lists and describes. */
export interface EnvironmentRegistrationValue {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  readonly vpcId: string;
  readonly kmsKeyArn: string;
  readonly credentialSecretPrefix: string;
  /** The environment's credential issuer (the management API calls it for credential routes). */
  readonly issuerFunctionArn?: string;
  /** Node id -> member id. */
  readonly nodes: Readonly<Record<string, string>>;
  /** Public host name of node n: `<n>.<domainName>`, when the environment has a domain. */
  readonly domainName?: string;
  /** The load balancer DNS name (path routing `/nodes/<n>/`), when the environment has ingress. */
  readonly loadBalancerDnsName?: string;
}
