import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReviewFindings, isCfnLintError, renderReport } from '../../lib/review/report';

const prices = JSON.parse(readFileSync(join(__dirname, '..', '..', 'data', 'prices-us-east-1.json'), 'utf8'));
const template = { Resources: { Key: { Type: 'AWS::KMS::Key', Properties: {} } } };
const result = (findings: Partial<ReviewFindings>) =>
  /Result: \*\*(PASS|FAIL)\*\*/.exec(renderReport({ stackName: 'AcmeDev', template, prices, acknowledgments: [], findings: { nagErrors: [], nagWarnings: [], cfnLint: [], checkovFailed: [], ...findings } }))?.[1];

describe('the review report', () => {
  // The runner's cfn-lint lines: `<label><line>:<column>:<end line>:<end column>:<rule>:<message>`.
  const error = 'AcmeDev: 12:3:12:20:E3012:Property Resources/Key/Properties/Enabled should be of type Boolean';
  const warning = 'AcmeDev: 40:5:40:9:W3005:Obsolete DependsOn on resource (Key), dependency already enforced';

  it('tells cfn-lint errors from warnings in the lines the runner writes', () => {
    expect([error, warning, 'E3012 bare', 'W1001 bare', 'I3042:note'].map(isCfnLintError)).toEqual([true, false, true, false, false]);
  });

  it('fails on a cfn-lint error and passes with only warnings', () => {
    expect(result({ cfnLint: [error] })).toBe('FAIL');
    expect(result({ cfnLint: [warning] })).toBe('PASS');
    expect(result({})).toBe('PASS');
    expect(result({ checkovFailed: ['CKV_AWS_7'] })).toBe('FAIL');
  });
});
