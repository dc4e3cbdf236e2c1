// Fails the build on a promise made and dropped: a call whose result is a
// Promise, used as a statement without await, return or `void`. The metadata
// stores are asynchronous, and a write whose promise nobody awaits would be
// acknowledged before it happened, its failure lost. TypeScript 7 (the
// compiler) has no JavaScript API, so this uses TypeScript 5's
// (the typescript-api dev dependency) to read the same sources.
import path from 'node:path';
import ts from 'typescript-api';

const root = path.resolve(import.meta.dirname, '..');
const configFile = path.join(root, 'tsconfig.json');
const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, root);
const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true });
const checker = program.getTypeChecker();

const isPromise = (type) => (type.isUnion() ? type.types.some(isPromise) : ['Promise', 'PromiseLike'].includes(type.getSymbol()?.getName() ?? ''));

/** `.catch(f)` and `.then(f, g)` handle a rejection: that promise is not dropped. */
function handled(call) {
  if (!ts.isPropertyAccessExpression(call.expression)) return false;
  const method = call.expression.name.text;
  return method === 'catch' || (method === 'then' && call.arguments.length === 2) || method === 'finally' && handled(call.expression.expression);
}

const dropped = [];
for (const file of program.getSourceFiles()) {
  if (file.isDeclarationFile || !file.fileName.startsWith(path.join(root, 'src'))) continue;
  const visit = (node) => {
    if (ts.isExpressionStatement(node) && ts.isCallExpression(node.expression) && !handled(node.expression) && isPromise(checker.getTypeAtLocation(node.expression))) {
      const { line, character } = file.getLineAndCharacterOfPosition(node.expression.getStart());
      dropped.push(`${path.relative(root, file.fileName)}:${line + 1}:${character + 1}: ${node.expression.getText().split('\n')[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
if (dropped.length > 0) {
  console.error(`${dropped.length} promise(s) made and dropped: await each, or mark a deliberate fire-and-forget with void.\n${dropped.join('\n')}`);
  process.exit(1);
}
