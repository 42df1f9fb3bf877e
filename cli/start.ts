import { resolve } from 'node:path';
import { installEgressGuard, parseEgressRule, readHomeConfig, type EgressRule } from '../common/index.js';

/**
 * What every `charter` process does before a command group is imported: resolve the home from
 * `--home` (exported as CHARTER_HOME, so child processes and every default agree), note
 * `--verbose`, and install the egress guard with the allow-list the configuration names.
 */
export interface CliStart {
  home: string;
  verbose: boolean;
  json: boolean;
}

/** Options read before commander parses: the value after `--home` (or `--home=DIR`); flags before a `--`. */
function preParse(argv: string[]): { home?: string; verbose: boolean; json: boolean } {
  const args = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined);
  let home: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--home' && args[i + 1] !== undefined) home = args[i + 1];
    else if (args[i]!.startsWith('--home=')) home = args[i]!.slice('--home='.length);
  }
  return { ...(home !== undefined ? { home } : {}), verbose: args.includes('--verbose'), json: args.includes('--json') };
}

/** http(s) URLs on the command line (`--gateway-url URL`, `--upstream tool=URL`, `--s3-endpoint URL`) are endpoints the user named. */
function commandLineRules(argv: string[]): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const arg of argv) {
    for (const m of arg.matchAll(/https?:\/\/[^\s,=]+/g)) {
      try {
        rules.push(parseEgressRule(m[0], 'command line'));
      } catch {
        // Not a URL after all: nothing to allow.
      }
    }
  }
  return rules;
}

/** AWS endpoint overrides, the region's service endpoints when a region is set, and the OTLP exporter's endpoint. */
function environmentRules(env: NodeJS.ProcessEnv): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (/^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/.test(name) || /^OTEL_EXPORTER_OTLP(_[A-Z]+)?_ENDPOINT$/.test(name))
      rules.push(parseEgressRule(value, name));
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region && /^[a-z0-9-]+$/.test(region)) rules.push({ host: `*.${region}.amazonaws.com`, port: 443, source: 'AWS_REGION' });
  return rules;
}

export async function startCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliStart> {
  const pre = preParse(argv);
  if (pre.home !== undefined) env.CHARTER_HOME = resolve(pre.home);
  if (pre.verbose) env.CHARTER_VERBOSE = '1';
  const home = resolve(env.CHARTER_HOME ?? '.charter');
  const configured = (await readHomeConfig(home)).egress.allow.map((entry) => parseEgressRule(entry, `${home}/config.yaml`));
  installEgressGuard({
    rules: [...configured, ...environmentRules(env), ...commandLineRules(argv)],
    home,
    ...(pre.verbose
      ? { onAllowed: (dest, rule) => process.stderr.write(`charter: connecting to ${dest} (allowed by ${rule.source})\n`) }
      : {}),
  });
  return { home, verbose: pre.verbose, json: pre.json };
}
