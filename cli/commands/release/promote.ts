import type { Command } from 'commander';
import { errorMessage } from '../../../common/index.js';
import { promote, type ReleaseOutcome } from '../../../release-gates/index.js';
import { printJson, printTable } from '../../output.js';
import { action } from '../../program.js';
import { printOutcome } from './report.js';
import {
  candidatesOf,
  gateOptions,
  releaseOptions,
  selectOptions,
  withWriter,
  writeOptions,
  type GateOpts,
  type WriteOpts,
} from './shared.js';

export function registerPromote(release: Command): void {
  writeOptions(
    selectOptions(
      gateOptions(
        release
          .command('promote')
          .description('run the gates again and, when none blocks, write a signed release record to the release store and the audit plane'),
      ),
      'promote',
    ),
  ).action(
    action(async (o: GateOpts & WriteOpts) => {
      const opts = await releaseOptions(o);
      const candidates = candidatesOf(o, opts);
      if (candidates.length === 1 && !o.all) {
        const out = await withWriter(o, (w) => promote(o.env, candidates[0]!.file, { ...opts, ...w }), o.auditDir);
        return printOutcome('promoted', out, o.json, out.report);
      }
      // Each agent is released on its own evidence: one refusal does not hold back the others.
      const results = await withWriter(
        o,
        async (w) => {
          const done: Array<{ agent: string; file: string; out?: ReleaseOutcome; refused?: string }> = [];
          for (const c of candidates)
            done.push(
              await promote(o.env, c.file, { ...opts, ...w }).then(
                (out) => ({ ...c, out }),
                (err: unknown) => ({ ...c, refused: errorMessage(err) }),
              ),
            );
          return done;
        },
        o.auditDir,
      );
      const refused = results.filter((r) => r.refused).length;
      if (o.json)
        printJson({
          ok: refused === 0,
          environment: o.env,
          results: results.map((r) =>
            r.out
              ? {
                  file: r.file,
                  agent: r.agent,
                  manifestDigest: r.out.signed.record.manifestDigest,
                  recordDigest: r.out.signed.digest,
                  auditSeq: r.out.auditSeq,
                }
              : { file: r.file, agent: r.agent, refused: r.refused },
          ),
        });
      else
        printTable(
          ['agent', 'result', 'manifest / reason'],
          results.map((r) =>
            r.out
              ? [r.agent, 'promoted', `${r.out.signed.record.manifestDigest}\nrecord ${r.out.signed.digest} (audit seq ${r.out.auditSeq})`]
              : [r.agent, 'REFUSED', r.refused!],
          ),
        );
      return refused === 0 ? 0 : 1;
    }),
  );
}
