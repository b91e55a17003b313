import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Lets a function's execution role decrypt its own environment variables, which Lambda encrypts
 * with `key` (the function's `environmentEncryption`) under the encryption context
 * `aws:lambda:FunctionArn` = the function's ARN. Lambda also creates a KMS grant for the
 * function when it is created or updated; this statement is the role's own permission.
 *
 * The condition names the Lambda functions of this account and region: `StringLike`, because the
 * ARN has a wildcard (`StringEquals` compares literally, so `function:*` would match no function
 * and the statement would grant nothing). The function's own ARN cannot be named: the role's one
 * managed policy would then reference the function, which references the role
 * (policy -> function -> role -> policy, a circular dependency CloudFormation refuses), and the
 * functions have generated names. Every role that carries this statement belongs to one function,
 * and `key` is the key of one environment (or of the control plane), so the functions whose
 * environment it can open are that environment's (or the control plane's) own.
 */
export function decryptOwnEnvironment(key: kms.IKey): iam.PolicyStatement {
  const stack = Stack.of(key);
  return new iam.PolicyStatement({
    sid: 'DecryptOwnEnvironmentVariables',
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringLike: { 'kms:EncryptionContext:aws:lambda:FunctionArn': stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
  });
}
