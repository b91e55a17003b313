import { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

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

/** Props of {@link EnvironmentRegistration}. */
export interface EnvironmentRegistrationProps {
  readonly value: EnvironmentRegistrationValue;
}

/**
 * Registers an environment in SSM Parameter Store when it is deployed (and removes the
 * registration when it is destroyed), so the management API can list and describe it.
 */
export class EnvironmentRegistration extends Construct {
  public readonly parameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: EnvironmentRegistrationProps) {
    super(scope, id);
    const v = props.value;
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: `${REGISTRATION_PREFIX}${v.tenantId}/${v.environmentId}`,
      description: `blockchain-tenancy environment ${v.tenantId}/${v.environmentId}`,
      stringValue: Stack.of(this).toJsonString(v),
      tier: ssm.ParameterTier.STANDARD,
    });
  }
}
