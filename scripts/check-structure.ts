/**
 * The structural rules of this codebase, checked (part of `npm run lint`):
 *
 * 1. No function in production code, benchmarks or scripts is 80 lines or longer: a longer one is
 *    a module hiding in a function. Tests are exempt (a `describe` body is a list, not logic).
 * 2. `process.env` is read only by composition roots (`main.ts`), config modules (`config.ts`)
 *    and the build-server's `environ.ts` (which scrubs the environment a build inherits), plus
 *    the dev tools under `scripts/` and `bench/`. Libraries take options.
 * 3. SQL lives in `*-repo.ts` files and in `packages/` (the drivers and migrations), never in a
 *    route handler, a worker or a service.
 * 4. Floors run one way inside each service: a repository imports no service or routes, a
 *    service imports no routes, and no two folders of a service import each other (a cycle
 *    between features means one of them is in the wrong place).
 *
 * Usage: `tsx scripts/check-structure.ts` (exit 1 and one line per finding when a rule breaks).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const MAX_FUNCTION_LINES = 80;
const SOURCE_DIRS = ['api-server/src', 'build-server/src', 's3-reverse-proxy/src', 'packages', 'scripts', 'bench'];
const SERVICES = ['api-server/src', 'build-server/src', 's3-reverse-proxy/src'];
const SQL = /\b(SELECT\s+[\w*"(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|ALTER\s+TABLE)\b/;

interface Finding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

function isTestFile(path: string): boolean {
  return (
    /\.(test|contract|integration\.test|e2e\.test|browser\.test)\.ts$/.test(path) ||
    path.split(sep).includes('test') ||
    path.startsWith(`packages${sep}testing${sep}`)
  );
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  if (parent && ts.isCallExpression(parent)) return `callback of ${parent.expression.getText().slice(0, 40)}`;
  return '(anonymous)';
}

function checkFunctions(file: string, source: ts.SourceFile, findings: Finding[]): void {
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines >= MAX_FUNCTION_LINES) {
        findings.push({ file, line: start + 1, rule: 'function-size', message: `${functionName(node)} is ${lines} lines (limit ${MAX_FUNCTION_LINES - 1})` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function checkEnv(file: string, text: string, findings: Finding[]): void {
  const base = file.split(sep).pop() ?? '';
  if (['main.ts', 'config.ts', 'environ.ts'].includes(base) || file.startsWith(`scripts${sep}`) || file.startsWith(`bench${sep}`)) return;
  text.split('\n').forEach((line, i) => {
    if (/process\.env\b/.test(line) && !/^\s*(\*|\/\/)/.test(line))
      findings.push({ file, line: i + 1, rule: 'process-env', message: 'reads process.env outside a config module or composition root' });
  });
}

function checkSql(file: string, source: ts.SourceFile, findings: Finding[]): void {
  if (!SERVICES.some((dir) => file.startsWith(dir + sep)) || file.endsWith('-repo.ts')) return;
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      if (SQL.test(node.getText(source))) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        findings.push({ file, line, rule: 'sql-outside-repo', message: 'SQL outside a *-repo.ts file' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

/** The floor of a file by its role: routes above services above repositories. */
function roleOf(file: string): number {
  const base = file.split(sep).pop() ?? '';
  if (base === 'routes.ts' || base.endsWith('-routes.ts')) return 3;
  if (base.endsWith('-repo.ts')) return 1;
  if (base.endsWith('-service.ts')) return 2;
  return 0;
}

function relativeImports(source: ts.SourceFile): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  for (const statement of source.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      const specifier = statement.moduleSpecifier.text;
      if (specifier.startsWith('.')) out.push({ specifier, line: source.getLineAndCharacterOfPosition(statement.getStart(source)).line + 1 });
    }
  }
  return out;
}

function checkFloors(files: Map<string, ts.SourceFile>, findings: Finding[]): void {
  for (const service of SERVICES) {
    const folderEdges = new Map<string, Set<string>>();
    for (const [file, source] of files) {
      if (!file.startsWith(service + sep) || isTestFile(file)) continue;
      for (const { specifier, line } of relativeImports(source)) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
        const [fromRole, toRole] = [roleOf(file), roleOf(target)];
        if (fromRole > 0 && toRole > fromRole)
          findings.push({ file, line, rule: 'import-up', message: `a ${['', 'repository', 'service'][fromRole]} imports ${target}, a floor above it` });
        const [fromFolder, toFolder] = [dirname(relative(service, file)), dirname(relative(service, target))];
        // A service's root folder holds both its entry files and small shared ones, and a folder
        // may use its own subfolders: only sibling folders are held to one direction.
        const related = fromFolder === '.' || toFolder === '.' || fromFolder.startsWith(toFolder + sep) || toFolder.startsWith(fromFolder + sep);
        if (fromFolder !== toFolder && !related) {
          if (!folderEdges.has(fromFolder)) folderEdges.set(fromFolder, new Set());
          folderEdges.get(fromFolder)!.add(toFolder);
        }
      }
    }
    for (const [from, targets] of folderEdges) {
      for (const to of targets) {
        if (from < to && folderEdges.get(to)?.has(from))
          findings.push({ file: join(service, from), line: 0, rule: 'folder-cycle', message: `${from}/ and ${to}/ import each other` });
      }
    }
  }
}

function main(): void {
  const findings: Finding[] = [];
  const parsed = new Map<string, ts.SourceFile>();
  for (const dir of SOURCE_DIRS) {
    for (const path of sourceFiles(join(ROOT, dir))) {
      const file = relative(ROOT, path);
      const text = readFileSync(path, 'utf8');
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
      parsed.set(file, source);
      if (isTestFile(file)) continue;
      checkFunctions(file, source, findings);
      checkEnv(file, text, findings);
      checkSql(file, source, findings);
    }
  }
  checkFloors(parsed, findings);
  for (const f of findings) console.log(`${f.file}:${f.line}  ${f.rule}  ${f.message}`);
  const files = [...parsed.keys()].filter((f) => !isTestFile(f)).length;
  console.log(findings.length === 0 ? `structure: ${files} files, every rule holds` : `structure: ${findings.length} finding(s) in ${files} files`);
  process.exitCode = findings.length === 0 ? 0 : 1;
}

main();
