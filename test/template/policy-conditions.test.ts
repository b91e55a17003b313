/**
 * Condition operators, over every template the CLI synthesizes for the production fixture (every
 * tenant environment, its node-group nested stacks and the management stack):
 *
 * - No literal string operator (`StringEquals`, `StringNotEquals` and their IgnoreCase, IfExists
 *   and ForAnyValue/ForAllValues forms) compares against a value with `*` or `?`: IAM compares
 *   those literally, so an Allow with one matches nothing (a dead grant) and a Deny with one
 *   denies nothing. Wildcards belong in `StringLike` / `ArnLike`. It held for every statement but
 *   one: the credential functions' `DecryptOwnEnvironmentVariables`, `StringEquals` on
 *   `arn:...:function:*`.
 * - Every function whose environment variables are encrypted with a customer key (`KmsKeyArn`)
 *   runs as a role that may `kms:Decrypt` with that key for a request that carries the function's
 *   encryption context (`aws:lambda:FunctionArn` = the function's ARN, a CloudFormation-generated
 *   name), evaluated the way IAM does (literal vs wildcard operators, every condition must hold).
 *
 * The negative controls put the old statement back and show both checks report it.
 */
import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { wildcardMatch } from '../support/cross-tenant';
import { buildTenantApp } from '../support/synth';

type Json = Record<string, unknown>;
interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}
interface Where {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action?: unknown;
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const { app } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')));
const built = app.node
  .findAll()
  .filter((c): c is Stack => c instanceof Stack)
  .map((s) => ({ name: s.node.path, where: { account: s.account, region: s.region, partition: s.partition }, json: Template.fromStack(s).toJSON() as TemplateJson }));

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A CloudFormation value as a string: pseudo parameters resolved, other references opaque. */
function text(v: unknown, w: Where): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object') {
    const x = v as Json;
    if ('Ref' in x) return ({ 'AWS::Partition': w.partition, 'AWS::Region': w.region, 'AWS::AccountId': w.account, 'AWS::URLSuffix': 'amazonaws.com' } as Json)[x.Ref as string] as string ?? `<${String(x.Ref)}>`;
    if ('Fn::Join' in x) {
      const [sep, parts] = x['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => text(p, w)).join(sep);
    }
    if ('Fn::Sub' in x && typeof x['Fn::Sub'] === 'string') return (x['Fn::Sub'] as string).replace(/\$\{([^!}][^}]*)\}/g, (_m, name: string) => text({ Ref: name }, w));
    return `<${JSON.stringify(x)}>`;
  }
  return '<?>';
}

/** Every policy statement anywhere in a template (role, managed and inline policies, trust, key and resource policies). */
function statements(t: TemplateJson): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  const walk = (v: unknown, where: string) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, where));
    else if (v && typeof v === 'object') {
      const x = v as Json;
      if ((x.Effect === 'Allow' || x.Effect === 'Deny') && ('Action' in x || 'NotAction' in x)) out.push({ where: `${where}${x.Sid ? `[${String(x.Sid)}]` : ''}`, statement: x as unknown as Statement });
      else Object.values(x).forEach((y) => walk(y, where));
    }
  };
  for (const [id, r] of Object.entries(t.Resources)) walk(r.Properties, id);
  return out;
}

const LITERAL = new Set(['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase']);
const baseOperator = (op: string) => op.replace(/^For(AnyValue|AllValues):/, '').replace(/IfExists$/, '');

/** Literal string operators whose value has an IAM wildcard. */
function wildcardsUnderLiteralOperators(t: TemplateJson, w: Where): string[] {
  const out: string[] = [];
  for (const { where, statement } of statements(t)) {
    for (const [op, entries] of Object.entries(statement.Condition ?? {})) {
      if (!LITERAL.has(baseOperator(op))) continue;
      for (const [key, raw] of Object.entries(entries)) {
        for (const value of list(raw).map((v) => text(v, w))) {
          if (/[*?]/.test(value.replace(/\$\{[^}]*\}/g, ''))) out.push(`${where}: ${op} ${key} = ${value}`);
        }
      }
    }
  }
  return out;
}

/** Whether every condition of a statement holds for a request that carries exactly `context`. */
function conditionsHold(condition: Statement['Condition'], context: Record<string, string>, w: Where): boolean {
  for (const [op, entries] of Object.entries(condition ?? {})) {
    for (const [key, raw] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) return false; // a key the request does not carry (e.g. kms:ViaService)
      const values = list(raw).map((v) => text(v, w));
      const base = baseOperator(op);
      const ok =
        base === 'StringEquals' ? values.includes(actual) : base === 'StringLike' || base === 'ArnLike' || base === 'ArnEquals' ? values.some((v) => wildcardMatch(v, actual)) : false;
      if (!ok) return false;
    }
  }
  return true;
}

/**
 * Functions with a customer key on their environment whose role may not decrypt it for the
 * function's own encryption context. Names are CloudFormation-generated: `<stack>-<logical id>-<suffix>`.
 */
function functionsThatCannotDecryptOwnEnvironment(t: TemplateJson, stackName: string, w: Where): string[] {
  const out: string[] = [];
  const docsOfRole = (roleId: string): unknown[] => {
    const role = t.Resources[roleId];
    const docs = (list(role?.Properties?.Policies) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument);
    for (const arn of list(role?.Properties?.ManagedPolicyArns)) {
      const ref = (arn as Json)?.Ref as string | undefined;
      if (ref && t.Resources[ref]) docs.push(t.Resources[ref].Properties?.PolicyDocument);
    }
    for (const r of Object.values(t.Resources)) {
      if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && list(r.Properties?.Roles).some((x) => (x as Json)?.Ref === roleId)) docs.push(r.Properties?.PolicyDocument);
    }
    return docs;
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function' || r.Properties?.KmsKeyArn === undefined) continue;
    const key = JSON.stringify(r.Properties.KmsKeyArn);
    const roleId = ((r.Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
    const functionArn = `arn:${w.partition}:lambda:${w.region}:${w.account}:function:${`${stackName}-${id}`.slice(0, 50)}-AbCdEfGh1234`;
    const context = { 'kms:EncryptionContext:aws:lambda:FunctionArn': functionArn };
    const allowed = docsOfRole(roleId)
      .flatMap((d) => list((d as { Statement?: unknown })?.Statement) as Statement[])
      .some(
        (s) =>
          s.Effect === 'Allow' &&
          list(s.Action).some((a) => wildcardMatch(text(a, w), 'kms:Decrypt', true)) &&
          list(s.Resource).some((x) => x === '*' || JSON.stringify(x) === key) &&
          conditionsHold(s.Condition, context, w),
      );
    if (!allowed) out.push(`${id} (role ${roleId}) may not decrypt its environment for ${functionArn}`);
  }
  return out;
}

/** The Lambda functions of a template that encrypt their environment with a customer key. */
const encryptedFunctions = (t: TemplateJson) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.KmsKeyArn !== undefined).map(([id]) => id);

describe('condition operators of the production fixture, as the CLI synthesizes it', () => {
  it('covers every tenant environment, the node-group nested stacks and the management stack', () => {
    const names = built.map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining(['AcmeProd', 'AcmeStaging', 'InitechProd', 'InitechGrid']));
    expect(names.some((n) => /Management/i.test(n))).toBe(true);
    expect(names.some((n) => n.startsWith('InitechGrid/'))).toBe(true);
    expect(built.reduce((n, b) => n + statements(b.json).length, 0)).toBeGreaterThan(200);
  });

  it.each(built.map((b) => [b.name, b] as const))('%s: no StringEquals / StringNotEquals value has a wildcard (IAM compares it literally)', (_name, b) => {
    expect(wildcardsUnderLiteralOperators(b.json, b.where)).toEqual([]);
  });

  it.each(built.map((b) => [b.name, b] as const))('%s: every function with a customer-key environment may decrypt it, for its own encryption context', (_name, b) => {
    expect(functionsThatCannotDecryptOwnEnvironment(b.json, b.name, b.where)).toEqual([]);
  });

  it('the functions that encrypt their environment: each environment\'s authorizer and issuer, the management API handler and the control-plane recorder', () => {
    for (const b of built.filter((x) => !x.name.includes('/') && !/Management/i.test(x.name))) {
      expect(encryptedFunctions(b.json).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort(), b.name).toEqual(['EnvironmentCredentialsAuthorizer', 'EnvironmentCredentialsIssuer']);
    }
    const management = built.find((x) => /Management/i.test(x.name))!;
    expect(encryptedFunctions(management.json)).toHaveLength(2);
  });
});

describe('the checks themselves (negative controls)', () => {
  const acme = built.find((b) => b.name === 'AcmeProd')!;
  /** AcmeProd's template with the authorizer role's decrypt statement rewritten by `edit`. */
  const tampered = (edit: (s: Statement) => void): TemplateJson => {
    const json = structuredClone(acme.json);
    const [, policy] = Object.entries(json.Resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.includes('CredentialsAuthorizerIdentityPolicy'))!;
    const statement = ((policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement).find((s) => s.Sid === 'DecryptOwnEnvironmentVariables');
    expect(statement).toBeDefined();
    edit(statement!);
    return json;
  };

  it('report the statement of before: StringEquals on arn:...:function:*', () => {
    const json = tampered((s) => {
      s.Condition = { StringEquals: s.Condition!.StringLike };
    });
    expect(wildcardsUnderLiteralOperators(json, acme.where)).toEqual([
      expect.stringMatching(/CredentialsAuthorizerIdentityPolicy[0-9A-F]{8}\[DecryptOwnEnvironmentVariables\]: StringEquals kms:EncryptionContext:aws:lambda:FunctionArn = arn:aws:lambda:eu-west-1:111122223333:function:\*$/),
    ]);
    expect(functionsThatCannotDecryptOwnEnvironment(json, acme.name, acme.where)).toEqual([expect.stringMatching(/^EnvironmentCredentialsAuthorizer[0-9A-F]{8} \(role .*\) may not decrypt its environment for arn:aws:lambda:eu-west-1:111122223333:function:AcmeProd-/)]);
  });

  it('report a wildcard built with Fn::Join, under the IfExists and ForAnyValue forms too', () => {
    for (const op of ['StringEqualsIfExists', 'ForAnyValue:StringEquals', 'StringNotEquals']) {
      const json = tampered((s) => {
        s.Condition = { [op]: { 'kms:EncryptionContext:aws:lambda:FunctionArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:eu-west-1:111122223333:function:*']] } } };
      });
      expect(wildcardsUnderLiteralOperators(json, acme.where), op).toEqual([expect.stringContaining(`${op} kms:EncryptionContext:aws:lambda:FunctionArn = arn:aws:lambda:eu-west-1:111122223333:function:*`)]);
    }
  });

  it('count a condition on a key the request does not carry (kms:ViaService) as not holding, and another account\'s functions as not matching', () => {
    const via = tampered((s) => {
      s.Condition = { ...s.Condition, StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } };
    });
    expect(functionsThatCannotDecryptOwnEnvironment(via, acme.name, acme.where)).toHaveLength(1);
    const otherAccount = tampered((s) => {
      s.Condition = { StringLike: { 'kms:EncryptionContext:aws:lambda:FunctionArn': 'arn:aws:lambda:eu-west-1:444455556666:function:*' } };
    });
    expect(functionsThatCannotDecryptOwnEnvironment(otherAccount, acme.name, acme.where)).toHaveLength(1);
  });
});
