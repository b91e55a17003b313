import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges, on one deploy-time custom-resource function, the NIST 800-53 findings that do not
 * apply to it: it runs only while CloudFormation deploys, invoked synchronously by CloudFormation
 * (which receives every failure, so a dead-letter queue would stay empty), at most once per
 * resource event (so a concurrency limit adds nothing), and it must reach the CloudFormation
 * response URL and regional AWS APIs, which it does outside the environment's isolated VPC.
 */
export function acknowledgeDeployTimeFunction(fn: IConstruct, what: string): void {
  const reasons: Record<string, string> = {
    'NIST.800.53.R5-LambdaDLQ': `Deploy-time custom resource (${what}): CloudFormation invokes it synchronously and receives every failure; a DLQ would never be read.`,
    'NIST.800.53.R5-LambdaConcurrency': `Deploy-time custom resource (${what}): one invocation per CloudFormation resource event.`,
    'NIST.800.53.R5-LambdaInsideVPC': `Deploy-time custom resource (${what}): it must reach the CloudFormation response URL and regional AWS APIs; the environment VPC is isolated from the internet by design.`,
  };
  for (const [id, reason] of Object.entries(reasons)) Validations.of(fn).acknowledge({ id, reason });
}
