import { RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { IngressConfig } from '../config/ingress-config';
import { Construct } from 'constructs';
import { EnvironmentConfig, TenantConfig, environmentStackName } from '../config/tenant-config';
import { BlockchainEnvironment, IngressOptions } from './blockchain-environment';
import { EnvironmentTags } from '../contracts/tags';

/** Props of {@link TenantEnvironmentStack}. */
export interface TenantEnvironmentStackProps extends StackProps {
  /** The tenant. */
  readonly tenant: TenantConfig;
  /** The environment of that tenant this stack deploys. */
  readonly environment: EnvironmentConfig;
}

/**
 * One CloudFormation stack per tenant environment, named `<Tenant><Environment>` in PascalCase
 * (e.g. `AcmeDev`) so that `cdk deploy AcmeDev` is obvious. Stack tags name the tenant and the
 * environment.
 */
export class TenantEnvironmentStack extends Stack {
  /** The environment this stack deploys. */
  public readonly blockchainEnvironment: BlockchainEnvironment;
  /** The zones the config lists (`availabilityZones`), if any. */
  private readonly pinnedZones?: readonly string[];

  constructor(scope: Construct, props: TenantEnvironmentStackProps) {
    const { tenant, environment: env } = props;
    const name = environmentStackName(tenant.id, env.id);
    super(scope, name, {
      ...props,
      stackName: props.stackName ?? name,
      description:
        props.description ??
        `Isolated blockchain environment "${env.id}" of tenant "${tenant.displayName ?? tenant.id}" (blockchain-tenancy)`,
      ...(env.account || env.region ? { env: { account: env.account, region: env.region } } : {}),
      tags: {
        ...props.tags,
        [EnvironmentTags.TENANT]: tenant.id,
        [EnvironmentTags.ENVIRONMENT]: env.id,
        ...(tenant.displayName ? { 'blockchain-tenancy:tenant-name': tenant.displayName } : {}),
      },
    });
    this.pinnedZones = env.availabilityZones;
    this.blockchainEnvironment = new BlockchainEnvironment(this, 'Environment', {
      tenantId: tenant.id,
      environmentId: env.id,
      cidr: env.cidr,
      removalPolicy: env.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      ...(env.availabilityZones ? { availabilityZones: env.availabilityZones } : {}),
      ...(env.flowLogRetentionDays ? { flowLogRetention: env.flowLogRetentionDays as logs.RetentionDays } : {}),
      ...(env.ecrEndpoints !== undefined ? { ecrEndpoints: env.ecrEndpoints } : {}),
      chain: env.chain ?? {},
      ...(env.credentials ? { credentials: env.credentials } : {}),
      ...(env.ingress ? { ingress: this.ingressOptions(env.ingress) } : {}),
    });
  }

  /**
   * The zones the config lists, when it lists them: the stack then knows its zones and never asks
   * AWS for them (a stack with an explicit account would otherwise look them up at synth, which
   * needs credentials: "Need to perform AWS calls"). Without a list, CDK's default applies.
   */
  public override get availabilityZones(): string[] {
    return this.pinnedZones ? [...this.pinnedZones] : super.availabilityZones;
  }

  private ingressOptions(i: IngressConfig): IngressOptions {
    const { certificateArn, hostedZoneId, hostedZoneName, ...rest } = i;
    return {
      ...rest,
      ...(certificateArn ? { certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', certificateArn) } : {}),
      ...(hostedZoneId && hostedZoneName ? { hostedZone: route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId, zoneName: hostedZoneName }) } : {}),
    };
  }
}
