/**
 * The API reference (docs/api/README.md), generated with TypeDoc from the doc comments of the
 * public API (everything lib/index.ts exports), as one Markdown page that renders on any Git host.
 *
 *   npm run docs            regenerate docs/api/README.md (part of npm run build)
 *   npm run docs -- --check exit 1 if the committed page is stale
 *
 * test/package/api-docs.test.ts fails when the committed page differs from the code.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
// TypeDoc is ESM-only and declares its types through package "imports", which this repository's
// CommonJS module resolution ("node") cannot follow: the few shapes used here are declared below
// (a subset of TypeDoc 0.28's models) and the module is imported dynamically at run time.
interface CommentDisplayPart {
  readonly kind: string;
  readonly text: string;
}
interface Comment {
  readonly summary: readonly CommentDisplayPart[];
  readonly blockTags: readonly { readonly tag: string; readonly content: readonly CommentDisplayPart[] }[];
}
interface Flags {
  readonly isOptional: boolean;
  readonly isPrivate: boolean;
  readonly isProtected: boolean;
  readonly isStatic: boolean;
  readonly isReadonly: boolean;
}
interface TypeLike {
  toString(): string;
}
interface SignatureReflection {
  readonly comment?: Comment;
  readonly parameters?: readonly { readonly name: string; readonly flags: Flags; readonly type?: TypeLike }[];
  readonly typeParameters?: readonly { readonly name: string }[];
  readonly type?: TypeLike;
}
interface DeclarationReflection {
  readonly name: string;
  readonly kind: number;
  readonly flags: Flags;
  readonly comment?: Comment;
  readonly children?: readonly DeclarationReflection[];
  readonly signatures?: readonly SignatureReflection[];
  readonly getSignature?: SignatureReflection;
  readonly type?: TypeLike;
  readonly sources?: readonly { readonly fullFileName: string }[];
}
interface ProjectReflection {
  readonly children?: readonly DeclarationReflection[];
}
interface TypeDocModule {
  readonly Application: { bootstrap(options: Record<string, unknown>): Promise<{ convert(): Promise<ProjectReflection | undefined> }> };
  readonly ReflectionKind: Readonly<Record<number, string>>;
}

const ROOT = path.resolve(__dirname, '..');
export const API_REFERENCE = path.join(ROOT, 'docs', 'api', 'README.md');

const text = (parts: readonly CommentDisplayPart[] | undefined): string =>
  (parts ?? [])
    .map((p) => (p.kind === 'inline-tag' ? `\`${p.text}\`` : p.text))
    .join('')
    .trim();
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
const cell = (s: string) => oneLine(s).replace(/\|/g, '\\|');
const code = (s: string) => (s === '' ? '' : `\`${oneLine(s).replace(/`/g, "'")}\``);

function summary(r: DeclarationReflection | SignatureReflection): string {
  return text(r.comment?.summary);
}

function defaultOf(r: DeclarationReflection): string {
  const tag = r.comment?.blockTags.find((t) => t.tag === '@default');
  if (!tag) return '';
  return text(tag.content)
    .replace(/^```\w*\n?/, '')
    .replace(/\n?```$/, '')
    .trim();
}

function signature(name: string, s: SignatureReflection, prefix = ''): string {
  const params = (s.parameters ?? []).map((p) => `${p.name}${p.flags.isOptional ? '?' : ''}: ${p.type?.toString() ?? 'unknown'}`).join(', ');
  const typeParams = s.typeParameters?.length ? `<${s.typeParameters.map((t) => t.name).join(', ')}>` : '';
  return `${prefix}${name}${typeParams}(${params})${prefix.startsWith('new ') ? '' : `: ${s.type?.toString() ?? 'void'}`}`;
}

function folderOf(r: DeclarationReflection): string {
  const file = r.sources?.[0]?.fullFileName;
  return file ? path.relative(ROOT, path.dirname(file)).split(path.sep).join('/') : 'lib';
}

function sourceOf(r: DeclarationReflection): string {
  const file = r.sources?.[0]?.fullFileName;
  return file ? path.relative(ROOT, file).split(path.sep).join('/') : '';
}

function members(r: DeclarationReflection, kinds: readonly string[], kindName: (k: number) => string): DeclarationReflection[] {
  return (r.children ?? []).filter((c) => kinds.includes(kindName(c.kind)) && !c.flags.isPrivate && !c.flags.isProtected && !c.name.startsWith('_'));
}

function render(project: ProjectReflection, kindName: (k: number) => string): string {
  const items = (project.children ?? []).slice().sort((a, b) => folderOf(a).localeCompare(folderOf(b)) || a.name.localeCompare(b.name));
  const folders = [...new Set(items.map(folderOf))];
  const kindLabel: Record<string, string> = { Class: 'class', Interface: 'interface', Enum: 'enum', Function: 'function', Variable: 'constant', TypeAlias: 'type' };
  const out: string[] = [
    '# API reference',
    '',
    'Generated from the doc comments by `npm run docs` (TypeDoc, `scripts/api-docs.ts`): do not edit by hand.',
    '`test/package/api-docs.test.ts` fails when this page and the code disagree.',
    'Everything here is exported by `blockchain-tenancy` (`lib/index.ts`).',
    '',
    '## Contents',
    '',
  ];
  for (const folder of folders) {
    out.push(`- **${folder}**: ${items.filter((i) => folderOf(i) === folder).map((i) => `[${i.name}](#${i.name.toLowerCase()})`).join(', ')}`);
  }
  out.push('');
  for (const folder of folders) {
    out.push(`## ${folder}`, '');
    for (const r of items.filter((i) => folderOf(i) === folder)) {
      const kind = kindName(r.kind);
      out.push(`### ${r.name}`, '', `*${kindLabel[kind] ?? kind}* in \`${sourceOf(r)}\``, '');
      const sig = r.signatures?.[0];
      const doc = summary(sig ?? r);
      if (doc) out.push(doc, '');
      if (kind === 'Class') {
        const ctor = members(r, ['Constructor'], kindName)[0]?.signatures?.[0];
        if (ctor) out.push('```ts', signature(r.name, ctor, 'new '), '```', '');
        const props = members(r, ['Property', 'Accessor'], kindName);
        if (props.length > 0) {
          out.push('| property | type | description |', '|---|---|---|');
          for (const p of props) {
            const type = p.type?.toString() ?? p.getSignature?.type?.toString() ?? '';
            const flags = `${p.flags.isStatic ? 'static ' : ''}${p.flags.isReadonly || p.getSignature ? 'readonly ' : ''}`;
            out.push(`| ${flags}\`${p.name}${p.flags.isOptional ? '?' : ''}\` | ${code(type)} | ${cell(summary(p.getSignature ?? p))} |`);
          }
          out.push('');
        }
        const methods = members(r, ['Method'], kindName);
        if (methods.length > 0) {
          out.push('| method | description |', '|---|---|');
          for (const m of methods) for (const s of m.signatures ?? []) out.push(`| ${code(signature(m.name, s, m.flags.isStatic ? 'static ' : ''))} | ${cell(summary(s))} |`);
          out.push('');
        }
      } else if (kind === 'Interface') {
        const props = members(r, ['Property', 'Method'], kindName);
        if (props.length > 0) {
          out.push('| property | type | default | description |', '|---|---|---|---|');
          for (const p of props) {
            const type = p.type?.toString() ?? (p.signatures?.[0] ? signature('', p.signatures[0]) : '');
            const def = p.flags.isOptional ? defaultOf(p) || '-' : 'required';
            out.push(`| \`${p.name}${p.flags.isOptional ? '?' : ''}\` | ${code(type)} | ${cell(def)} | ${cell(summary(p.signatures?.[0] ?? p))} |`);
          }
          out.push('');
        }
      } else if (kind === 'Enum') {
        out.push('| member | value | description |', '|---|---|---|');
        for (const m of r.children ?? []) out.push(`| \`${m.name}\` | ${code(m.type?.toString() ?? '')} | ${cell(summary(m))} |`);
        out.push('');
      } else if (kind === 'Function') {
        out.push('```ts', ...(r.signatures ?? []).map((s) => `function ${signature(r.name, s)}`), '```', '');
      } else if (kind === 'Variable') {
        out.push('```ts', `const ${r.name}: ${r.type?.toString() ?? 'unknown'}`, '```', '');
      } else if (kind === 'TypeAlias') {
        out.push('```ts', `type ${r.name} = ${r.type?.toString() ?? 'unknown'}`, '```', '');
      }
    }
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** The API reference page for the code as it is now. */
export async function renderApiReference(): Promise<string> {
  const specifier = 'typedoc';
  const typedoc = (await import(specifier)) as TypeDocModule;
  const app = await typedoc.Application.bootstrap({
    entryPoints: [path.join(ROOT, 'lib', 'index.ts')],
    tsconfig: path.join(ROOT, 'tsconfig.docs.json'),
    excludePrivate: true,
    excludeProtected: true,
    excludeInternal: true,
    excludeExternals: true,
    skipErrorChecking: true,
    disableSources: false,
    disableGit: true,
    sourceLinkTemplate: 'https://example.invalid/{path}',
    logLevel: 'Warn',
  });
  const project = await app.convert();
  if (!project) throw new Error('TypeDoc could not convert lib/index.ts');
  return render(project, (k) => typedoc.ReflectionKind[k]);
}

async function main(): Promise<void> {
  const page = await renderApiReference();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(API_REFERENCE, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== page) {
      console.error(`${path.relative(ROOT, API_REFERENCE)} is stale: run npm run docs`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(path.dirname(API_REFERENCE), { recursive: true });
  writeFileSync(API_REFERENCE, page);
  console.log(`wrote ${path.relative(ROOT, API_REFERENCE)} (${page.split('\n').length} lines)`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
