import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { acknowledgeFinding } from './acknowledge';
import { nagArn } from './nag-ids';

/** Where a function in a VPC puts its network interfaces. */
export interface LambdaVpcAccessScope {
  readonly vpc: ec2.IVpc;
  /** The function's subnets. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The function's security groups. */
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

/**
 * What Lambda needs from a function's execution role to run the function in a VPC (create,
 * describe and delete its network interfaces), limited to one VPC, its subnets and groups:
 * the replacement for the AWS managed `AWSLambdaVPCAccessExecutionRole`, which allows these
 * actions on every network interface of the account and writing to every log group.
 *
 * - `ec2:DescribeNetworkInterfaces` and `ec2:DescribeSubnets` take no resource (Lambda's docs:
 *   DescribeNetworkInterfaces only works on `*`); they read, never change.
 * - `ec2:CreateNetworkInterface` needs the interface, the subnet and the security group: the
 *   subnet and group ARNs are this function's own, so an interface can only be made here.
 * - Delete / assign / unassign act on existing interfaces whose ids nobody knows before Lambda
 *   creates them: `network-interface/*` of this account and region, bound by the `ec2:Vpc`
 *   condition to interfaces in this VPC (another tenant's node interfaces live in its own VPC).
 *
 * Log permissions are not here: each function writes only to its own log group (added next to it).
 */
export function lambdaVpcAccessStatements(scope: IConstruct, s: LambdaVpcAccessScope): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const ec2Arn = (resource: string, name: string) => stack.formatArn({ service: 'ec2', resource, resourceName: name });
  return [
    new iam.PolicyStatement({ sid: 'VpcAccessDescribe', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: 'VpcAccessCreateInterfacesInOwnSubnets',
      actions: ['ec2:CreateNetworkInterface'],
      resources: [
        ec2Arn('network-interface', '*'),
        ...s.subnets.map((subnet) => ec2Arn('subnet', subnet.subnetId)),
        ...s.securityGroups.map((g) => ec2Arn('security-group', g.securityGroupId)),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'VpcAccessManageInterfacesInOwnVpc',
      actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [ec2Arn('network-interface', '*')],
      conditions: { ArnEquals: { 'ec2:Vpc': ec2Arn('vpc', s.vpc.vpcId) } },
    }),
  ];
}

/** Acknowledges, on the policy holding {@link lambdaVpcAccessStatements}, the two wildcards they need. */
export function acknowledgeLambdaVpcAccess(policy: IConstruct): void {
  const stack = Stack.of(policy);
  acknowledgeFinding(policy, {
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ec2', 'network-interface/*')}]`,
    reason:
      "Lambda creates the function's network interfaces at run time (ids unknown before): creation is bound to this environment's subnets and security group, deletion and IP changes by the ec2:Vpc condition to this environment's VPC.",
  });
}
