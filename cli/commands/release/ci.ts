import { join } from 'node:path';
import { defaultEnvironmentsDir, type CheckReport, type GateName } from '../../../release-gates/index.js';
import { yamlLineOf } from '../../../common/index.js';
import { ciPath, type CiCase, type CiTool } from '../../ci-report.js';

export const RELEASE_CHECK_TOOL: CiTool = {
  name: 'charter release check',
  version: '1',
  rules: (
    [
      'promotion-order',
      'pack-versions',
      'tests',
      'secrets',
      'cedar',
      'dependencies',
      'evals',
      'replay',
      'canary',
      'approval',
    ] satisfies GateName[]
  ).map((gate) => ({
    id: `release/${gate}`,
    description: `the ${gate} gate of the environment's gate definition`,
  })),
};

/**
 * One CI case per gate of each candidate, located at the gate's entry in the environment's gate
 * definition (`<gates>/<env>.yaml`): a failure is a gate that blocks the release; a warning (eval
 * regressions where the environment only warns) is reported without failing.
 */
export function releaseCiCases(reports: CheckReport[], gatesDir = defaultEnvironmentsDir()): CiCase[] {
  return reports.flatMap((r) => {
    const file = join(gatesDir, `${r.environment}.yaml`);
    return r.gates.map((g) => ({
      suite: `${r.agent} -> ${r.environment}`,
      name: g.gate,
      rule: `release/${g.gate}`,
      file: ciPath(file),
      line: yamlLineOf(file, ['gates', g.gate]) ?? 1,
      ...(g.blocking ? { failure: { message: `${r.agent}: gate ${g.gate} ${g.status}: ${g.summary}`, details: g.reasons } } : {}),
      ...(g.warnings?.length ? { warning: { message: `${r.agent}: gate ${g.gate} warning: ${g.summary}`, details: g.warnings } } : {}),
    }));
  });
}
