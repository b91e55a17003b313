import { expect } from 'vitest';
import { StackReview } from '../../scripts/review-runner';

/**
 * Asserts that every reviewed stack passed with no finding of any pack or tool: no cdk-nag error
 * or warning, no cfn-lint error (E-codes; warnings are listed in the report), no failed checkov
 * check. The stack name is part of the compared value, so a failure names the stack.
 */
export function expectNoFindings(results: readonly StackReview[]): void {
  for (const r of results) {
    expect({ stack: r.stackName, ...r.findings, cfnLint: r.findings.cfnLint.filter((l) => /E\d{4}/.test(l)) }).toEqual({
      stack: r.stackName,
      nagErrors: [],
      nagWarnings: [],
      cfnLint: [],
      checkovFailed: [],
    });
    expect(r.passed).toBe(true);
  }
}
