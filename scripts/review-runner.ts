/**
 * The template review behind `npm run review`: builds the default app from a config, runs the
 * cdk-nag packs AwsSolutions, NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 in-process,
 * synthesizes, runs cfn-lint and checkov (pinned, from ./.venv) on every template (node groups'
 * nested templates included), and writes a Markdown report per environment to
 * <outdir>/review/<Stack>.md that covers the stack and its nested stacks.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { addManagementStack, addTenantEnvironments, loadTenantsConfig } from '../lib';
import { cdkCliContext } from './cdk-context';
import { Acknowledgment, ReviewFindings, isCfnLintError, renderReport } from '../lib/review/report';
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

/** One template file of a stack (its own or a nested stack's) and the prefix its findings get. */
interface TemplatePart {
  /** Absolute path, as given to the tools. */
  readonly path: string;
  readonly label: string;
}

/** A tool's findings, by the absolute path of the template they are about (and any it names no template for). */
interface ToolFindings {
  readonly byPath: Map<string, string[]>;
  readonly unattributed: string[];
}

/** Runs a program to its end, collecting its output (no size limit: checkov's JSON for many templates is large). */
function run(file: string, args: readonly string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (status, signal) => done({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const canonical = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/**
 * cfn-lint over every template in one process. Its parseable lines start with the file name as
 * given; each is kept as `<label><line>:<column>:...:<rule>:<message>`. cfn-lint's exit code is a
 * bit mask of the levels it found (2, 4, 8); 1 (or a signal) means it did not finish, which fails
 * the review instead of passing templates nobody linted.
 */
async function cfnLintAll(bin: string, parts: readonly TemplatePart[]): Promise<ToolFindings> {
  const r = await run(join(bin, 'cfn-lint'), ['--format', 'parseable', ...parts.map((p) => p.path)]);
  if (r.status === null || r.status % 2 === 1) {
    throw new Error(`cfn-lint did not finish (${r.signal ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-2000)}`);
  }
  const byPath = new Map<string, string[]>();
  const unattributed: string[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const part = parts.find((p) => line.startsWith(`${p.path}:`));
    if (!part) {
      unattributed.push(`[cfn-lint] ${line}`);
      continue;
    }
    byPath.set(part.path, [...(byPath.get(part.path) ?? []), `${part.label}${line.slice(part.path.length + 1)}`]);
  }
  return { byPath, unattributed };
}

/**
 * checkov over every template in one process (`-f` per file). Failed checks carry the template's
 * absolute path. Output that is not checkov's JSON report, and a template it could not parse (its
 * JSON report counts them but does not name them; its log does), are findings of every stack.
 */
async function checkovAll(bin: string, parts: readonly TemplatePart[]): Promise<ToolFindings> {
  const r = await run(join(bin, 'checkov'), [...parts.flatMap((p) => ['-f', p.path]), '--framework', 'cloudformation', '--output', 'json', '--quiet', '--skip-download']);
  const byCanonical = new Map(parts.map((p) => [canonical(p.path), p]));
  const byPath = new Map<string, string[]>();
  const unattributed: string[] = [];
  const add = (file: string, finding: string) => {
    const part = byCanonical.get(canonical(file));
    if (!part) unattributed.push(`[checkov: ${file}] ${finding}`);
    else byPath.set(part.path, [...(byPath.get(part.path) ?? []), `${part.label}${finding}`]);
  };
  type Report = { results?: { failed_checks?: { check_id: string; resource: string; check_name: string; file_abs_path: string }[] }; summary?: { parsing_errors?: number } };
  let reports: Report[];
  try {
    const parsed = JSON.parse(r.stdout || '{}') as Report | Report[];
    reports = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return { byPath, unattributed: [`checkov output unreadable (${r.signal ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-2000)}`] };
  }
  for (const report of reports) {
    for (const f of report.results?.failed_checks ?? []) add(f.file_abs_path, `${f.check_id} ${f.resource}: ${f.check_name}`);
    const unparsed = report.summary?.parsing_errors ?? 0;
    if (unparsed > 0) unattributed.push(`checkov could not parse ${unparsed} template(s): ${r.stderr.trim().slice(-2000)}`);
  }
  return { byPath, unattributed };
}

export async function runReview(options: { configPath: string; outdir: string }): Promise<StackReview[]> {
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
  const reviewed = stacks.map((stack) => {
    const artifact = assembly.getStackArtifact(stack.artifactId);
    // Node groups live in nested stacks: their templates are reviewed with the stack's own.
    const nested = stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack && Stack.of(c.node.scope!) === stack);
    const parts: TemplatePart[] = [
      { path: resolve(options.outdir, artifact.templateFile), label: '' },
      ...nested.map((n) => ({ path: resolve(options.outdir, n.templateFile), label: `[nested ${n.node.id}] ` })),
    ];
    return { stack, parts };
  });
  // One cfn-lint and one checkov process for every template of the app (each tool's start-up
  // costs seconds; both take a list of files), the two running at the same time. Their findings
  // are attributed to templates by file path.
  const allParts = reviewed.flatMap((r) => r.parts);
  const [lint, check] = await Promise.all([cfnLintAll(bin, allParts), checkovAll(bin, allParts)]);
  return reviewed.map(({ stack, parts }) => {
    const cfnLint = parts.flatMap((p) => lint.byPath.get(p.path) ?? []).concat(lint.unattributed);
    const checkovFailed = parts.flatMap((p) => check.byPath.get(p.path) ?? []).concat(check.unattributed);
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
    const passed = findings.nagErrors.length === 0 && !cfnLint.some(isCfnLintError) && checkovFailed.length === 0;
    return { stackName: stack.stackName, reportPath, findings, acknowledgments, passed };
  });
}
