// The GUI's types come from the server's openapi.json (npm run generate → src/generated/api.d.ts). This test shows
// that a drift between the two breaks the build: it generates the types from altered copies of openapi.json (a
// renamed field, a dropped state, a new event type, a dropped route) and type-checks the GUI's sources against each, in memory,
// with the project's tsconfig.json; each must fail naming what the GUI still uses. The unaltered document must pass.
// (Outside src/ on purpose: it uses Node's APIs, which the GUI's own tsconfig does not know.)
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import openapiTS, { astToString } from 'openapi-typescript';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SPEC = path.resolve(WEB, '../../server/src/main/resources/dev/vmctl/server/openapi.json');
const GENERATED = path.join(WEB, 'src/generated/api.d.ts');

type Doc = { paths: Record<string, unknown>; components: { schemas: Record<string, any> } };
const original = (): Doc => JSON.parse(readFileSync(SPEC, 'utf8'));

/** the same generation as `npm run generate` (see package.json) */
async function generate(doc: Doc): Promise<string> {
  return astToString(await openapiTS(doc as never, { defaultNonNullable: false }));
}

const config = ts.getParsedCommandLineOfConfigFile(path.join(WEB, 'tsconfig.json'), {}, {
  ...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
})!;
let previous: ts.Program | undefined;

/** tsc --noEmit over the GUI with the generated file replaced by `generated`: the errors, as "file(line): message" */
function typecheck(generated: string): string[] {
  const host = ts.createCompilerHost(config.options);
  const isGenerated = (f: string) => path.resolve(f) === GENERATED;
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, lang, ...rest) => isGenerated(f) ? ts.createSourceFile(f, generated, lang) : getSourceFile.call(host, f, lang, ...rest);
  host.fileExists = f => isGenerated(f) || fileExists.call(host, f);
  host.readFile = f => isGenerated(f) ? generated : readFile.call(host, f);
  const rootNames = [...new Set([...config.fileNames.filter(f => !isGenerated(f)), GENERATED])];
  const program = ts.createProgram({ rootNames, options: config.options, host, oldProgram: previous });
  previous = program;
  return ts.getPreEmitDiagnostics(program).map(d => {
    const where = d.file ? `${path.relative(WEB, d.file.fileName)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})` : '';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('openapi.json ⇄ GUI', () => {
  it('the GUI type-checks against the generated types', async () => {
    expect(typecheck(await generate(original()))).toEqual([]);
  }, 120_000);

  it.each([
    ['a renamed field: Vm.memoryMiB → memoryMb', (d: Doc) => {
      const vm = d.components.schemas.Vm;
      vm.properties.memoryMb = vm.properties.memoryMiB;
      delete vm.properties.memoryMiB;
      vm.required = vm.required.map((r: string) => r === 'memoryMiB' ? 'memoryMb' : r);
    }, /memoryMiB/],
    ['a node state dropped: MIXED', (d: Doc) => {
      const t = d.components.schemas.Topology.properties.state;
      t.enum = t.enum.filter((s: string) => s !== 'MIXED');
    }, /"MIXED"/],
    ['an event type the GUI does not subscribe to, added: vm.renamed', (d: Doc) => {
      d.components.schemas.EventType.enum.push('vm.renamed');
    }, /vm\.renamed/],
    ['a journal field renamed: ScenarioStepResult.revertedMs → revertMs', (d: Doc) => {
      const st = d.components.schemas.ScenarioStepResult;
      st.properties.revertMs = st.properties.revertedMs;
      delete st.properties.revertedMs;
      st.required = st.required.map((r: string) => r === 'revertedMs' ? 'revertMs' : r);
    }, /revertedMs/],
    ['a report route the GUI links to, removed: GET /api/v1/scenario-runs/{id}/report.junit', (d: Doc) => {
      delete d.paths['/api/v1/scenario-runs/{id}/report.junit'];
    }, /report\.junit/],
    ['a route the GUI calls, removed: POST /api/v1/operations/{id}/cancel', (d: Doc) => {
      delete d.paths['/api/v1/operations/{id}/cancel'];
    }, /\/api\/v1\/operations\/\{id\}\/cancel/],
  ] as const)('%s breaks the build', async (_what, change, expected) => {
    const doc = original();
    change(doc);
    const errors = typecheck(await generate(doc));
    expect(errors.join('\n')).toMatch(expected);
  }, 120_000);
});
