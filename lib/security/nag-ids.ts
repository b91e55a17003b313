import { Stack, Token } from 'aws-cdk-lib';

/**
 * The resource part of a granular cdk-nag finding id for an ARN built with `stack.formatArn`:
 * cdk-nag renders unresolved pseudo parameters as `<AWS::Region>` / `<AWS::AccountId>` and
 * concrete ones (stacks with an explicit env) as their values.
 */
export function nagArn(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}
