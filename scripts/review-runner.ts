/**
 * The template review behind `npm run review`: builds the default app from a config, runs the
 * cdk-nag packs AwsSolutions, NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 in-process,
 * synthesizes, runs cfn-lint and checkov (pinned, from ./.venv) on every template (node groups'
 * nested templates included), and writes a Markdown report per environment to
 * <outdir>/review/<Stack>.md that covers the stack and its nested stacks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { addManagementStack, addTenantEnvironments, loadTenantsConfig } from '../lib';
import { cdkCliContext } from './cdk-context';
import { Acknowledgment, ReviewFindings, renderReport } from '../lib/review/report';
import { CfnTemplate } from '../lib/review/template-model';

export interface StackReview {
  readonly stackName: string;
  readonly reportPath: string;
  readonly findings: ReviewFindings;
  readonly acknowledgments: Acknowledgment[];
  readonly passed: boolean;
}

const ROOT = join(__dirname, '..');

export function venvBin(): string {
  return execFileSync('bash', [join(ROOT, 'scripts', 'ensure-venv.sh'), 'dev'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function acknowledgmentsUnder(scope: IConstruct): Acknowledgment[] {
  const out: Acknowledgment[] = [];
  for (const c of scope.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !m.data || typeof m.data !== 'object') continue;
      for (const [id, value] of Object.entries(m.data as Record<string, unknown>)) {
        const reason = typeof value === 'string' ? value : String((value as { reason?: string })?.reason ?? JSON.stringify(value));
        out.push({ path: c.node.path.split('/').slice(1).join('/'), rule: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return out;
}

export function runReview(options: { configPath: string; outdir: string }): StackReview[] {
  // Exactly the context of `npx cdk synth -c config=<configPath>`: the review must see the
  // templates that get deployed (cdk.json's feature flags change them), assets bundled as well.
  const app = new App({ outdir: options.outdir, context: cdkCliContext({ config: options.configPath }) });
  const config = loadTenantsConfig(options.configPath);
  const management = addManagementStack(app, config);
  const stacks: Stack[] = [...addTenantEnvironments(app, config), ...(management ? [management] : [])];
  const packs = [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()];
  const nag = new Map<string, { errors: string[]; warnings: string[] }>();
  for (const pack of packs) {
    for (const v of pack.validateScope(app).violations) {
      for (const r of v.violatingResources) {
        const stack = (r.constructPath ?? '').split('/')[0];
        const entry = nag.get(stack) ?? { errors: [], warnings: [] };
        (v.severity === 'error' ? entry.errors : entry.warnings).push(`${v.ruleName} ${r.constructPath}`);
        nag.set(stack, entry);
      }
    }
  }
  const assembly = app.synth();
  const bin = venvBin();
  const prices = JSON.parse(readFileSync(join(ROOT, 'data', 'prices-us-east-1.json'), 'utf8'));
  mkdirSync(join(options.outdir, 'review'), { recursive: true });
  const lintAndCheck = (templatePath: string, label: string) => {
    const lint = spawnSync(join(bin, 'cfn-lint'), ['--format', 'parseable', templatePath], { encoding: 'utf8' });
    const cfnLint = lint.stdout.split('\n').filter(Boolean).map((l) => `${label}${l.replace(`${templatePath}:`, '')}`);
    const ck = spawnSync(join(bin, 'checkov'), ['-f', templatePath, '--framework', 'cloudformation', '--output', 'json', '--quiet', '--skip-download'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    let checkovFailed: string[] = [];
    try {
      const parsed = JSON.parse(ck.stdout || '{}') as { results?: { failed_checks?: { check_id: string; resource: string; check_name: string }[] } };
      checkovFailed = (parsed.results?.failed_checks ?? []).map((f) => `${label}${f.check_id} ${f.resource}: ${f.check_name}`);
    } catch {
      checkovFailed = [`${label}checkov output unreadable (exit ${ck.status})`];
    }
    return { cfnLint, checkovFailed };
  };
  return stacks.map((stack) => {
    const artifact = assembly.getStackArtifact(stack.artifactId);
    const templatePath = join(options.outdir, artifact.templateFile);
    // Node groups live in nested stacks: their templates are reviewed with the stack's own.
    const nested = stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack && Stack.of(c.node.scope!) === stack);
    const parts = [
      { path: templatePath, label: '' },
      ...nested.map((n) => ({ path: join(options.outdir, n.templateFile), label: `[nested ${n.node.id}] ` })),
    ].map((p) => ({ ...p, ...lintAndCheck(p.path, p.label) }));
    const cfnLint = parts.flatMap((p) => p.cfnLint);
    const checkovFailed = parts.flatMap((p) => p.checkovFailed);
    const findings: ReviewFindings = {
      nagErrors: nag.get(stack.stackName)?.errors ?? [],
      nagWarnings: nag.get(stack.stackName)?.warnings ?? [],
      cfnLint,
      checkovFailed,
    };
    const acknowledgments = acknowledgmentsUnder(stack);
    // One model of the stack with its nested stacks' resources (their logical ids are unique: CDK
    // derives them from construct paths).
    const templates = parts.map((p) => JSON.parse(readFileSync(p.path, 'utf8')) as CfnTemplate);
    const template: CfnTemplate = { ...templates[0], Resources: Object.assign({}, ...templates.map((t) => t.Resources)) as CfnTemplate['Resources'] };
    const reportPath = join(options.outdir, 'review', `${stack.stackName}.md`);
    writeFileSync(reportPath, renderReport({ stackName: stack.stackName, template, prices, acknowledgments, findings }));
    const passed = findings.nagErrors.length === 0 && !cfnLint.some((l) => /:E\d{4}:|^E\d{4}/.test(l)) && checkovFailed.length === 0;
    return { stackName: stack.stackName, reportPath, findings, acknowledgments, passed };
  });
}
