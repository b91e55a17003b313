import { Acknowledgment, CfnResource, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * `Validations.of(scope).acknowledge(...rules)` without the stack trace aws-cdk-lib records with
 * every acknowledgment (it costs about 7 ms of synth per environment, ~90 acknowledgments each,
 * and tells a reviewer nothing: the review lists each acknowledgment by construct path).
 */
export function acknowledgeFinding(scope: IConstruct, ...rules: Acknowledgment[]): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    Validations.of(scope).acknowledge(...rules);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The cdk-nag packs whose shared rules are acknowledged together (same rule, same reason). */
export const COMPLIANCE_PACKS: readonly string[] = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];

/**
 * Rules acknowledged here that not every compliance pack has (cdk-nag 3.0.2): PCI DSS 3.2.1 checks
 * neither dead-letter queues, reserved concurrency, load balancer deletion protection nor DynamoDB
 * backup plans; NIST 800-53 R5 does not check CodeBuild source credentials. An
 * acknowledgment of a rule a pack does not have would list a finding nobody raised.
 */
const PACKS_OF_RULE: Readonly<Record<string, readonly string[]>> = {
  LambdaDLQ: ['NIST.800.53.R5', 'HIPAA.Security'],
  LambdaConcurrency: ['NIST.800.53.R5', 'HIPAA.Security'],
  ELBDeletionProtectionEnabled: ['NIST.800.53.R5', 'HIPAA.Security'],
  CodeBuildProjectSourceRepoUrl: ['HIPAA.Security', 'PCI.DSS.321'],
  DynamoDBInBackupPlan: ['NIST.800.53.R5', 'HIPAA.Security'],
};

/** The compliance packs that have `rule` (all of them unless listed in PACKS_OF_RULE). */
export function compliancePacksOf(rule: string): readonly string[] {
  return PACKS_OF_RULE[rule] ?? COMPLIANCE_PACKS;
}

/**
 * Acknowledges one compliance rule (e.g. `LambdaDLQ`) on one construct for every compliance pack
 * that has it (NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1), and the equivalent checkov checks,
 * with one reason, next to the resource that causes the finding. The review report lists them all.
 */
export function acknowledgeRule(scope: IConstruct, rule: string, reason: string, checkovIds: readonly string[] = []): void {
  for (const pack of compliancePacksOf(rule)) acknowledgeFinding(scope, { id: `${pack}-${rule}`, reason });
  if (checkovIds.length) skipCheckov(scope, checkovIds, reason);
}

/** Skips checkov checks on the CloudFormation resource of `scope` (resource metadata), with a reason. */
export function skipCheckov(scope: IConstruct, ids: readonly string[], reason: string): void {
  const cfn = scope instanceof CfnResource ? scope : (scope.node.defaultChild as CfnResource | undefined);
  if (!(cfn instanceof CfnResource)) throw new Error(`skipCheckov: ${scope.node.path} has no CloudFormation resource`);
  const existing = (cfn.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  cfn.addMetadata('checkov', { skip: [...existing, ...ids.filter((id) => !existing.some((e) => e.id === id)).map((id) => ({ id, comment: reason }))] });
}
