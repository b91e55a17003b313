import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, NagPack, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { acknowledgeFinding } from '../../lib/security/acknowledge';
import { buildTenantApp } from '../support/synth';

// Every cdk-nag acknowledgment must answer a finding some pack raises on its resource: one that
// matches nothing (a rule the pack does not have, an id that no finding carries, a resource the
// rule never looks at) is a reason nobody needed, and hides nothing but a reviewer's attention.

type Pack = { isAcknowledged(resource: IConstruct, ruleId: string): boolean };
const proto = NagPack.prototype as unknown as Pack;

/** `<construct path> <rule id>` of every cdk-nag acknowledgment that no finding of the four packs used. */
function unusedAcknowledgments(app: App): string[] {
  const used = new Set<string>();
  const original = proto.isAcknowledged;
  // cdk-nag asks, for each finding, whether the resource or an ancestor acknowledges its id:
  // answer as cdk-nag does, and record which acknowledgment answered.
  proto.isAcknowledged = function (resource: IConstruct, ruleId: string): boolean {
    for (let c: IConstruct | undefined = resource; c; c = c.node.scope) {
      for (const e of c.node.metadata) {
        if (e.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !e.data) continue;
        if (Object.keys(e.data as object).some((k) => k.replace(/^annotation::/i, '') === ruleId)) {
          used.add(`${c.node.path} ${ruleId}`);
          return true;
        }
      }
    }
    return false;
  };
  try {
    for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()]) pack.validateScope(app);
  } finally {
    proto.isAcknowledged = original;
  }
  const all: string[] = [];
  for (const c of app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !m.data) continue;
      for (const key of Object.keys(m.data as object)) {
        const id = key.replace(/^annotation::/i, '');
        // CDK's own acknowledgments (e.g. CloudFormation-Validate::W3010) are not cdk-nag's.
        if (/^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-/.test(id)) all.push(`${c.node.path} ${id}`);
      }
    }
  }
  return all.filter((a) => !used.has(a));
}

describe('cdk-nag acknowledgments on the production fixture (four packs)', () => {
  const { app, stacks } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')));

  it('each answers a finding on its resource', () => {
    expect(stacks).toHaveLength(4);
    expect(unusedAcknowledgments(app)).toEqual([]);
  });

  it('an acknowledgment that answers nothing is listed (negative control)', () => {
    const { app: other, stacks: s } = buildTenantApp(JSON.parse(readFileSync('tenants.json', 'utf8')));
    acknowledgeFinding(s[0].blockchainEnvironment.encryptionKey, { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'nothing here has a policy' });
    expect(unusedAcknowledgments(other)).toEqual(expect.arrayContaining(['AcmeDev/Environment/Key AwsSolutions-IAM5[Resource::*]']));
  });
});
