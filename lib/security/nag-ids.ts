import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A value (a string with tokens, e.g. an ARN) as cdk-nag writes it into a granular finding id:
 * resolved in the stack of `scope`, then flattened the way cdk-nag flattens CloudFormation
 * references (`Ref` to `<X>`, `Fn::GetAtt` to `<X.Attr>`, `Fn::Join` joined, `${X}` of `Fn::Sub`
 * to `<X>`). Deriving acknowledgment ids from the value that goes into the template keeps them
 * true whatever the stack's environment and feature flags make of it: with an explicit region and
 * `@aws-cdk/core:enablePartitionLiterals` (cdk.json) CDK writes `arn:aws:...`, without either it
 * writes `arn:${AWS::Partition}:...`, and an id written by hand for one misses the other.
 */
export function nagResource(scope: IConstruct, value: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(value));
}

/**
 * The resource part of a granular cdk-nag finding id for the ARN `stack.formatArn({ service,
 * resource })` (e.g. `secret:blockchain-tenancy/acme/dev/credentials/*`), as the stack renders it.
 */
export function nagArn(stack: Stack, service: string, resource: string): string {
  return nagResource(stack, stack.formatArn({ service, resource }));
}

/** cdk-nag's own flattening (cdk-nag/lib/utils/flatten-cfn-reference, not exported by cdk-nag). */
function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (o['Fn::Sub']) return flattenCfnReference(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flattenCfnReference(o['Fn::ImportValue']);
    if (o.Ref) return `<${flattenCfnReference(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
