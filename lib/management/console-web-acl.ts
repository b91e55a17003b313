import { Aws, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { RegionalWebAcl } from '../security/web-acl';

/** The only region where WAF creates web ACLs for CloudFront (scope CLOUDFRONT). */
export const CLOUDFRONT_WEB_ACL_REGION = 'us-east-1';

/** Props of {@link ConsoleWebAcl}. */
export interface ConsoleWebAclProps {
  /** Requests per 5 minutes from one IP before WAF blocks it. @default 1000 */
  readonly rateLimitPerIp?: number;
  /** Removal policy of the WAF log group and its key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The web console's WAF web ACL for CloudFront (scope CLOUDFRONT: per-IP rate limit, Amazon IP
 * reputation, known bad inputs, the common rule set; logs to an encrypted `aws-waf-logs-` group).
 * WAF creates CloudFront web ACLs only in us-east-1, so the stack must be pinned to us-east-1:
 * the management stack itself when it deploys there, or a companion stack (the default app's
 * `BlockchainConsoleWaf`) whose {@link webAclArn} is then given to `ManagementConsole.webAclArn`.
 */
export class ConsoleWebAcl extends Construct {
  /** ARN of the web ACL (for `ManagementConsole.webAclArn` / a distribution's `webAclId`). */
  public readonly webAclArn: string;
  public readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ConsoleWebAclProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region) || stack.region !== CLOUDFRONT_WEB_ACL_REGION) {
      throw new Error(
        `ConsoleWebAcl: the stack's region is ${Token.isUnresolved(stack.region) ? 'not known at synth (environment-agnostic stack)' : stack.region}; ` +
          `WAF creates web ACLs for CloudFront only in ${CLOUDFRONT_WEB_ACL_REGION}: put this construct in a stack with env.region "${CLOUDFRONT_WEB_ACL_REGION}"`,
      );
    }
    const rateLimitPerIp = props.rateLimitPerIp ?? 1000;
    if (!Number.isInteger(rateLimitPerIp) || rateLimitPerIp < 10 || rateLimitPerIp > 2_000_000_000) {
      throw new Error(`ConsoleWebAcl: rateLimitPerIp is ${rateLimitPerIp}; use a whole number from 10 to 2000000000 (requests per 5 minutes per IP, WAF's range)`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy, description: 'blockchain-tenancy web console WAF logs' });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
    this.webAcl = new RegionalWebAcl(this, 'Waf', {
      name: 'blockchain-console',
      description: 'blockchain-tenancy web console, CloudFront',
      cloudFront: true,
      rateLimitPerIp,
      encryptionKey: key,
      removalPolicy,
    }).webAcl;
    this.webAclArn = this.webAcl.attrArn;
  }
}
