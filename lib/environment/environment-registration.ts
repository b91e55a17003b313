import { Stack, Token } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from '../contracts/registration-format';

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
    // A standard parameter holds 4 KB, an advanced one 8 KB. Values resolved at deploy time (ids,
    // ARNs, DNS names) are counted at 200 bytes each.
    const resolvedLater = Object.values(v).filter((x) => typeof x === 'string' && Token.isUnresolved(x)).length;
    const estimate = Buffer.byteLength(JSON.stringify(v)) + resolvedLater * 200;
    if (estimate > 8192) {
      throw new Error(
        `EnvironmentRegistration (${v.tenantId}/${v.environmentId}): the registration is about ${estimate} bytes and SSM parameters hold at most 8192; use shorter node and member ids, or fewer nodes in one environment`,
      );
    }
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: `${REGISTRATION_PREFIX}${v.tenantId}/${v.environmentId}`,
      description: `blockchain-tenancy environment ${v.tenantId}/${v.environmentId}`,
      stringValue: Stack.of(this).toJsonString(v),
      // Large environments (many nodes) need the advanced tier; the others stay standard (free).
      tier: estimate > 4096 ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });
  }
}
