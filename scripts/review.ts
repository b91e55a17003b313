/**
 * npm run review [-- --config tenants.json] [--out cdk.out]
 * npm run review -- -c config=test/fixtures/production-tenants.json   (the CLI's spelling)
 * Builds the default app with exactly the CLI's context (cdk.json's, see scripts/cdk-context.ts).
 * Exits 1 when any stack has a cdk-nag error, a cfn-lint error or a failed checkov check.
 */
import { runReview } from './review-runner';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : undefined;
};
/** `-c config=FILE` / `--context config=FILE`, as `cdk synth` takes it. */
const contextConfig = (): string | undefined => {
  for (let i = 0; i < args.length - 1; i++) {
    if ((args[i] === '-c' || args[i] === '--context') && args[i + 1].startsWith('config=')) return args[i + 1].slice('config='.length);
  }
  return undefined;
};
const configPath = arg('--config') ?? contextConfig() ?? 'tenants.json';
async function main(): Promise<number> {
  const results = await runReview({ configPath, outdir: arg('--out') ?? 'cdk.out' });
  for (const r of results) {
    const f = r.findings;
    console.log(
      `${r.passed ? 'PASS' : 'FAIL'} ${r.stackName}: nag errors ${f.nagErrors.length}, nag warnings ${f.nagWarnings.length}, cfn-lint ${f.cfnLint.length} (errors ${f.cfnLint.filter((l) => /E\d{4}/.test(l)).length}), checkov failed ${f.checkovFailed.length}, acknowledged ${r.acknowledgments.length} -> ${r.reportPath}`,
    );
    for (const line of [...f.nagErrors, ...f.cfnLint.filter((l) => /E\d{4}/.test(l)), ...f.checkovFailed]) console.log(`  ${line}`);
  }
  return results.every((r) => r.passed) ? 0 : 1;
}
main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.message);
    process.exit(1);
  },
);
