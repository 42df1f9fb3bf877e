import type { Command } from 'commander';
import { errorMessage, InputError, writeFileAtomic } from '../../../common/index.js';
import { loadDataset, type DatasetCase } from '../../../datasets/index.js';
import { toPromptfooResults, type EvalReport } from '../../../evals/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { verifiedReport } from './shared.js';

const FORMATS = ['promptfoo'] as const;

/**
 * The report's dataset cases, to show each case's input and expected answer beside its result:
 * only the dataset the report names with the digest it records (else none, and why).
 */
function datasetOf(report: EvalReport, datasetsDir: string | undefined): { cases: DatasetCase[] | null; note: string } {
  const used = report.datasets[0];
  if (!used) return { cases: null, note: 'the report names no dataset' };
  try {
    const d = loadDataset(used.ref, datasetsDir);
    if (d.digest !== used.digest) return { cases: null, note: `${used.ref} here is ${d.digest}, the report measured ${used.digest}` };
    return { cases: d.cases, note: `inputs and expected answers from ${used.ref}` };
  } catch (err) {
    return { cases: null, note: `${used.ref} not loaded: ${errorMessage(err)}` };
  }
}

export function registerExport(evals: Command): void {
  withJson(
    evals
      .command('export')
      .description(
        "write a verified eval report in another tool's format: promptfoo's results file (`promptfoo import FILE`, then `promptfoo view`)",
      )
      .argument('<report>', 'report file (.dsse.json)')
      .requiredOption('--format <format>', `output format (${FORMATS.join(', ')})`)
      .option('--out <file>', 'write here (default: the document on stdout)')
      .option('--datasets-dir <dir>', "datasets folder holding the report's dataset (default: the shipped datasets)")
      .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)'),
  ).action(
    action((file: string, opts: { format: string; out?: string; datasetsDir?: string; trustedKeys?: string; json?: boolean }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format))
        throw new InputError(`unknown format '${opts.format}' (one of ${FORMATS.join(', ')})`, { field: '--format' });
      const { report, digest } = verifiedReport(file, opts.trustedKeys);
      const dataset = datasetOf(report, opts.datasetsDir);
      const document = toPromptfooResults(report, digest, dataset.cases);
      if (!opts.out) return printJson(document);
      writeFileAtomic(opts.out, JSON.stringify(document, null, 2) + '\n');
      const { stats } = document.results;
      if (opts.json)
        printJson({
          ok: true,
          file: opts.out,
          format: opts.format,
          evalId: document.evalId,
          reportDigest: digest,
          stats,
          dataset: dataset.note,
        });
      else {
        printLine(
          `wrote ${opts.out}: ${document.results.results.length} results (${stats.successes} pass, ${stats.failures} fail, ${stats.errors} error)`,
        );
        printLine(`  ${dataset.note}`);
        printLine(`  view: promptfoo import ${opts.out} && promptfoo view`);
      }
    }),
  );
}
