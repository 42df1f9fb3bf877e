import type { Command } from 'commander';
import { charterHome } from '../../../common/index.js';
import { BreakerFile } from '../../../gateway/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerBreakers(cmd: Command): void {
  withJson(
    cmd
      .command('breakers')
      .description(
        "the last state change of every circuit breaker the home's processes saw (gateway upstreams, suppliers, models, agent runtimes, the S3 audit sink); each change is also in the audit trail",
      )
      .option('--open', 'only breakers that are open or half-open')
      .addHelpText('after', '\nExamples:\n  $ charter negotiations breakers\n  $ charter negotiations breakers --open --json'),
  ).action(
    action((opts: { home?: string; open?: boolean; json?: boolean }) => {
      const file = BreakerFile.inHome(opts.home ?? charterHome());
      const entries = file.read().filter((e) => !opts.open || e.state !== 'closed');
      if (opts.json) printJson({ ok: true, breakers: entries });
      else if (!entries.length) printLine(opts.open ? 'no breaker is open' : 'no breaker has changed state');
      else
        printTable(
          ['breaker', 'key', 'state', 'since', 'failures', 'reason', 'pid'],
          entries.map((e) => [e.breaker, e.key, e.state, e.since, e.failures, e.reason, e.pid]),
        );
      return 0;
    }),
  );
}
