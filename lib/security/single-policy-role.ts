import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Props of {@link SinglePolicyRole}. */
export interface SinglePolicyRoleProps {
  readonly assumedBy: iam.IPrincipal;
  readonly description: string;
  /** Every permission of the role. */
  readonly statements: iam.PolicyStatement[];
  /** AWS managed policies, each acknowledged where the role is created. @default - none */
  readonly awsManagedPolicies?: readonly string[];
}

/**
 * A role whose permissions live in ONE customer-managed policy (no inline policy, so NIST 800-53
 * IAMNoInlinePolicy holds and reviewers find every permission in one document). Add statements
 * only through `statements`; CDK grant helpers would write an inline default policy.
 */
export class SinglePolicyRole extends Construct {
  public readonly role: iam.Role;
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: SinglePolicyRoleProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', { description: props.description, statements: props.statements });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: props.assumedBy,
      description: props.description,
      managedPolicies: [this.policy, ...(props.awsManagedPolicies ?? []).map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n))],
    });
  }
}

/**
 * A grantee whose grants land in `policy` (a customer-managed policy attached to `role`) instead
 * of the role's inline default policy: aws-cdk-lib's `grant*()` helpers (e.g.
 * `ManagementApi.grantManage`) keep their exact statements, and the role keeps one managed policy.
 */
export function managedPolicyGrantee(role: iam.IRole, policy: iam.ManagedPolicy): iam.IGrantable {
  const principal: iam.IPrincipal = {
    get grantPrincipal() {
      return principal;
    },
    assumeRoleAction: role.assumeRoleAction,
    policyFragment: role.policyFragment,
    principalAccount: role.principalAccount,
    addToPrincipalPolicy: (statement) => {
      policy.addStatements(statement);
      return { statementAdded: true, policyDependable: policy };
    },
  };
  return principal;
}
