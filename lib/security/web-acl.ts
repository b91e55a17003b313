import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Props of {@link RegionalWebAcl}. */
export interface RegionalWebAclProps {
  /** CloudWatch metric name of the ACL (also the WAF log group suffix). */
  readonly name: string;
  readonly description: string;
  /**
   * ARN of the load balancer or API Gateway stage to protect (a WebACLAssociation).
   * @default - no association: a CloudFront distribution names its web ACL itself (`webAclId`)
   */
  readonly resourceArn?: string;
  /**
   * A web ACL for CloudFront (scope CLOUDFRONT): WAF creates those only in us-east-1, so the stack
   * must deploy there; the log group is in us-east-1 too, as WAF requires for CloudFront ACLs.
   * @default false (scope REGIONAL)
   */
  readonly cloudFront?: boolean;
  /** Requests per 5 minutes from one IP before blocking. */
  readonly rateLimitPerIp: number;
  /** Requests per 5 minutes with one Authorization header before blocking. @default - no per-credential limit */
  readonly rateLimitPerCredential?: number;
  /** Count (not block) the common rule set's 8 KB body rule (JSON-RPC contract deployment). @default false */
  readonly countLargeBodies?: boolean;
  /** Key of the WAF log group. */
  readonly encryptionKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A WAFv2 web ACL (rate limits, Amazon IP reputation, known bad inputs, the common rule set):
 * regional, associated with one resource, or for CloudFront (`cloudFront`); logging to an encrypted `aws-waf-logs-` group with the
 * Authorization header redacted.
 */
export class RegionalWebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: RegionalWebAclProps) {
    super(scope, id);
    const visibility = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
    const managed = (name: string, priority: number, overrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[]) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ...(overrides ? { ruleActionOverrides: overrides } : {}) } },
      visibilityConfig: visibility(name),
    });
    const rateRules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RateLimitPerIp',
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.rateLimitPerIp, evaluationWindowSec: 300 } },
        visibilityConfig: visibility('RateLimitPerIp'),
      },
      ...(props.rateLimitPerCredential
        ? [
            {
              name: 'RateLimitPerCredential',
              priority: 1,
              action: { block: {} },
              statement: {
                rateBasedStatement: {
                  aggregateKeyType: 'CUSTOM_KEYS',
                  limit: props.rateLimitPerCredential,
                  evaluationWindowSec: 300,
                  customKeys: [{ header: { name: 'authorization', textTransformations: [{ priority: 0, type: 'NONE' }] } }],
                },
              },
              visibilityConfig: visibility('RateLimitPerCredential'),
            },
          ]
        : []),
    ];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: props.cloudFront ? 'CLOUDFRONT' : 'REGIONAL',
      defaultAction: { allow: {} },
      description: props.description,
      visibilityConfig: visibility(props.name),
      rules: [
        ...rateRules,
        managed('AWSManagedRulesAmazonIpReputationList', 2),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 3),
        managed('AWSManagedRulesCommonRuleSet', 4, props.countLargeBodies ? [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] : undefined),
      ],
    });
    if (props.resourceArn !== undefined) new wafv2.CfnWebACLAssociation(this, 'Association', { resourceArn: props.resourceArn, webAclArn: this.webAcl.attrArn });
    const group = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${props.name}`,
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [group.logGroupArn],
      // Never write credentials to logs.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
  }
}
