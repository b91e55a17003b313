/**
 * npm run review [-- --config tenants.json] [--out cdk.out]
 * Exits 1 when any stack has a cdk-nag error, a cfn-lint error or a failed checkov check.
 */
import { runReview } from './review-runner';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const results = runReview({ configPath: arg('--config', 'tenants.json'), outdir: arg('--out', 'cdk.out') });
for (const r of results) {
  const f = r.findings;
  console.log(
    `${r.passed ? 'PASS' : 'FAIL'} ${r.stackName}: nag errors ${f.nagErrors.length}, nag warnings ${f.nagWarnings.length}, cfn-lint ${f.cfnLint.length} (errors ${f.cfnLint.filter((l) => /E\d{4}/.test(l)).length}), checkov failed ${f.checkovFailed.length}, acknowledged ${r.acknowledgments.length} -> ${r.reportPath}`,
  );
  for (const line of [...f.nagErrors, ...f.cfnLint.filter((l) => /E\d{4}/.test(l)), ...f.checkovFailed]) console.log(`  ${line}`);
}
process.exit(results.every((r) => r.passed) ? 0 : 1);
