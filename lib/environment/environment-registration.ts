import { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from './registration-format';

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
