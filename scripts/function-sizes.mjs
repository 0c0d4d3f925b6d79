// Issue 15's house rules: no source file over 300 lines, no function over 60 lines.
// Usage: node scripts/function-sizes.mjs [--json] [root…]; the roots default to shipway/src and
// service/src. Exits 1 when a file or function is over its limit and not on the allowlist below.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;

/**
 * Justified exceptions, each with the reason it is printed with. `file` is relative to the
 * repository; `name` picks one function in it, none picks the file and every function in it.
 */
const ALLOWED = [
  {
    file: 'shipway/src/core/init/render-base.ts',
    name: 'rollout',
    reason:
      'one Kubernetes manifest written as the YAML `shipway init` emits; cut into fragments, the Rollout would no longer read as the object it is',
  },
];

const repository = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const json = args.includes('--json');
const given = args.filter((arg) => arg !== '--json');
const roots = given.length > 0 ? given : ['shipway/src', 'service/src'].map((dir) => join(repository, dir));

/** Where a file is, as the allowlist and the report name it: relative to the repository when inside it. */
function shown(file) {
  const inside = relative(repository, resolve(file));
  return inside.startsWith('..') ? file : inside.split(sep).join('/');
}

function sourceFiles(root) {
  return readdirSync(root, { recursive: true })
    .map((name) => join(root, String(name)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts'));
}

function functionName(node, source) {
  if (node.name !== undefined) return node.name.getText(source);
  if (ts.isVariableDeclaration(node.parent) || ts.isPropertyAssignment(node.parent))
    return node.parent.name.getText(source);
  return '(anonymous)';
}

/** Every file over MAX_FILE_LINES and every function over MAX_FUNCTION_LINES in one file. */
function measure(file) {
  const text = readFileSync(file, 'utf8');
  const path = shown(file);
  const found = [];
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) found.push({ path, line: 1, kind: 'file', name: null, lines });
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION_LINES)
        found.push({ path, line: start + 1, kind: 'function', name: functionName(node, source), lines: length });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const allowance = (entry) =>
  ALLOWED.find((allowed) => allowed.file === entry.path && (allowed.name === undefined || allowed.name === entry.name));

const found = roots.flatMap(sourceFiles).flatMap(measure);
const report = found.map((entry) => ({ ...entry, allowed: allowance(entry)?.reason ?? null }));
const over = report.filter((entry) => entry.allowed === null);
if (json) console.log(JSON.stringify(report, null, 2));
else {
  for (const entry of report) {
    const where = `${entry.path}:${entry.line}${entry.name === null ? '' : ` ${entry.name}`}`;
    const limit = entry.kind === 'file' ? MAX_FILE_LINES : MAX_FUNCTION_LINES;
    const verdict = entry.allowed === null ? `over ${limit}` : `allowed: ${entry.allowed}`;
    console.log(`${entry.kind.padEnd(8)} ${String(entry.lines).padStart(4)} lines  ${where}  (${verdict})`);
  }
  // An exception nothing needs any more is noise in the list: say so, so it is removed.
  if (given.length === 0)
    for (const allowed of ALLOWED)
      if (!report.some((entry) => allowance(entry) === allowed))
        console.log(`unused allowlist entry: ${allowed.file}${allowed.name ? ` ${allowed.name}` : ''}; remove it`);
  if (over.length > 0)
    console.log(
      `${over.length} over the house limits (files ${MAX_FILE_LINES} lines, functions ${MAX_FUNCTION_LINES}): split them by responsibility, or add an exception with its reason to scripts/function-sizes.mjs`,
    );
}
process.exitCode = over.length > 0 ? 1 : 0;
