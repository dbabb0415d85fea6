// SARIF 2.1.0 for code scanning: one result per finding, placed on the config entry it comes from (or on
// the model when it has none), with the config fixes as SARIF fixes.
import { FINDING_CATALOG } from './findings/catalog';
import { configEditsToTextEdits } from './fixes';
import { lineColumn, locateInConfig } from './freeze-config';
import type { AnalysisResult, Finding, FindingCode, Severity } from './types';

export interface SarifInput {
  readonly result: AnalysisResult;
  /** URIs as they should appear in the log (relative to the repository root, '/'-separated). */
  readonly modelUri: string;
  readonly configUri?: string;
  readonly configText?: string;
}

type Json = Record<string, unknown>;

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

function region(text: string, offset: number, length: number): Json {
  const start = lineColumn(text, offset);
  const end = lineColumn(text, offset + length);
  return { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column };
}

export function toSarif(inputs: readonly SarifInput[], toolVersion = '0.1.0'): Json {
  const codes = Object.keys(FINDING_CATALOG) as FindingCode[];
  const rules = codes.map((code) => ({
    id: code,
    name: code.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: FINDING_CATALOG[code].title },
    fullDescription: { text: FINDING_CATALOG[code].help },
    help: { text: FINDING_CATALOG[code].help },
    defaultConfiguration: { level: LEVEL[FINDING_CATALOG[code].severity] },
  }));
  const results = inputs.flatMap((input) => input.result.findings.map((f) => result(f, input, codes)));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'freeze-inspector', version: toolVersion, informationUri: 'https://github.com/freeze-inspector/freeze-inspector', rules } },
        results,
      },
    ],
  };
}

function result(f: Finding, input: SarifInput, codes: FindingCode[]): Json {
  const { configUri, configText } = input;
  let physical: Json;
  if (configUri !== undefined && configText !== undefined) {
    const r = f.configRange ?? (f.configPath ? locateInConfig(configText, f.configPath) : { offset: 0, length: 1 });
    physical = { artifactLocation: { uri: configUri }, region: region(configText, r.offset, Math.max(1, r.length)) };
  } else {
    physical = { artifactLocation: { uri: input.modelUri } };
  }
  const out: Json = {
    ruleId: f.code,
    ruleIndex: codes.indexOf(f.code),
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [{ physicalLocation: physical, logicalLocations: [{ name: f.target.name, kind: f.target.kind === 'variable' ? 'variable' : 'member', fullyQualifiedName: `${input.modelUri}:${f.target.name}` }] }],
    partialFingerprints: { 'freezeInspector/v1': `${f.code}:${input.modelUri}:${f.target.kind}:${f.target.name}` },
  };
  if (configUri !== undefined && configText !== undefined) {
    const fixes = f.fixes.flatMap((fix) => {
      const edits = configEditsToTextEdits(configText, fix.edits);
      if (edits.length === 0) return [];
      return [
        {
          description: { text: fix.title },
          artifactChanges: [
            {
              artifactLocation: { uri: configUri },
              replacements: edits.map((e) => ({ deletedRegion: region(configText, e.offset, e.length), insertedContent: { text: e.newText } })),
            },
          ],
        },
      ];
    });
    if (fixes.length) out['fixes'] = fixes;
  }
  return out;
}
