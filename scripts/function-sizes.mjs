// Lists source files over 300 lines and functions over 60 lines (issue 15's house rules).
// Usage: node scripts/function-sizes.mjs [--json]; exits 1 when any is found.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const files = ['shipway/src', 'service/src'].flatMap((dir) =>
  readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((file) => file.endsWith('.ts'))
    .filter((file) => !file.endsWith('.test.ts') && !file.endsWith('.d.ts')),
);
const found = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > 300) found.push({ file, kind: 'file', lines });
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const length = end - start + 1;
      if (length > 60) {
        const name =
          node.name?.getText(source) ??
          (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
        found.push({ file: `${file}:${start + 1}`, kind: 'function', name, lines: length });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(found, null, 2));
else
  for (const entry of found)
    console.log(
      `${entry.kind.padEnd(8)} ${String(entry.lines).padStart(4)}  ${entry.file}${entry.name ? ` ${entry.name}` : ''}`,
    );
process.exitCode = found.length > 0 ? 1 : 0;
