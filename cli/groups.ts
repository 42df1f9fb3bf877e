import type { Command } from 'commander';

type Register = (program: Command) => void;

interface Group {
  /** The one-line description top-level help shows (the group's own help shows it too). */
  description: string;
  /** Shown under the group's --help. */
  examples: string[];
  load(program: Command): Promise<void>;
}

/** Imports a group's module and registers it, with the description from this table. */
function group(description: string, examples: string[], register: () => Promise<Register>): Group {
  return {
    description,
    examples,
    async load(program) {
      (await register())(program);
      const cmd = program.commands[program.commands.length - 1]!;
      cmd.description(description).addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
    },
  };
}

/**
 * The command groups, each in cli/commands/<group>[/<verb>].ts calling only the public entry point
 * of its domain folder. A group's module is imported only when that group is invoked.
 */
export const GROUPS = {
  init: group(
    'create a Charter home: signing keys, tenants, config (says what it created)',
    ['charter init', 'charter --home /srv/charter init --json'],
    async () => (await import('./commands/init.js')).registerInit,
  ),
  packs: group(
    'policy packs: scaffold, validate, test with coverage, compile signed agent manifests, diff',
    [
      'charter packs new --agent contract-reader --dir ./my-packs',
      'charter packs test --packs ./my-packs --filter contract-reader --junit junit.xml',
      'charter packs validate',
      'charter packs test --min-coverage 100',
      'charter packs compile --all',
      'charter packs compile --agent kraljic-classifier --key kms:alias/charter-manifests',
      'charter packs diff old.manifest.json new.manifest.json',
    ],
    async () => (await import('./commands/packs/index.js')).registerPacks,
  ),
  manifest: group(
    'signed agent manifests: verify',
    [
      'charter manifest verify .charter/manifests/kraljic-classifier.manifest.json --trusted-keys .charter/keys/trusted-keys.json',
      'charter manifest verify m.json --trusted-keys keys.json --packs ./my-packs --json',
    ],
    async () => (await import('./commands/manifest/index.js')).registerManifest,
  ),
  keys: group(
    'signing keys and the trusted-keys file',
    [
      'charter keys generate --name release-approver-1 --purpose approval',
      'charter keys generate --name ci --purpose manifest eval-report --dir ./keys',
    ],
    async () => (await import('./commands/keys/index.js')).registerKeys,
  ),
  datasets: group(
    'versioned eval datasets: generate and verify',
    ['charter datasets verify', 'charter datasets generate bid-evaluation --seed 7 --count 50 --datasets-dir ./my-datasets'],
    async () => (await import('./commands/datasets/index.js')).registerDatasets,
  ),
  evals: group(
    'eval suites over versioned datasets: signed reports with intervals, judge calibration',
    [
      'charter evals list',
      'charter evals run kraljic-classification --manifest .charter/manifests/kraljic-classifier.manifest.json',
      'charter evals calibrate --judge judge.yaml',
    ],
    async () => (await import('./commands/evals/index.js')).registerEvals,
  ),
  release: group(
    'evidence-based promotion dev -> stg -> prod, rollback and approvals of signed agent manifests',
    [
      'charter release check --all --env dev',
      'charter release promote --all --env dev',
      'charter release approve --env stg --agent award-communications --key .charter/keys/release-approver-1.key.pem --waive evals:award-communications/judge_score --note "no judge here"',
      'charter release status --env dev --json',
    ],
    async () => (await import('./commands/release/index.js')).registerRelease,
  ),
  gateway: group(
    'the enforcement point for agent tool calls (MCP)',
    ['charter gateway serve --env prod --upstream erp=http://127.0.0.1:8700/mcp'],
    async () => (await import('./commands/gateway/index.js')).registerGateway,
  ),
  approvals: group(
    'approval requests and signed, single-use approval tokens for write-high and critical tool calls',
    ['charter approvals list', 'charter approvals approve REQUEST_ID --key .charter/keys/alice.key.pem'],
    async () => (await import('./commands/approvals/index.js')).registerApprovals,
  ),
  negotiations: group(
    'the procurement reference: run, resume and inspect negotiations of the seven-node DAG',
    ['charter negotiations run --tenant acme', 'charter negotiations list --json', 'charter negotiations asl > negotiation.asl.json'],
    async () => (await import('./commands/negotiations/index.js')).registerNegotiations,
  ),
  agents: group(
    'the procurement agents as their own processes',
    ['charter agents serve --agent kraljic-classifier --env prod --gateway-url http://127.0.0.1:8600/mcp'],
    async () => (await import('./commands/agents/index.js')).registerAgents,
  ),
  killswitch: group(
    "suspend a tenant or an agent at once: every tool call for it is denied from the gateway's next decision",
    ["charter killswitch engage --tenant globex --as alice --reason 'suspected credential leak'", 'charter killswitch list --json'],
    async () => (await import('./commands/killswitch/index.js')).registerKillSwitch,
  ),
  audit: group(
    'the audit trail: append, query, verify, prove, export',
    [
      'charter audit verify',
      'charter audit query --tenant acme --decision deny --format csv',
      'charter audit export --tenant acme --from 2026-01-01 --to 2026-02-01 --out acme.json',
      'charter audit verify --bundle acme.json --trusted-keys pinned.json --witness-key w1.vkey --witness-quorum 1',
    ],
    async () => (await import('./commands/audit/index.js')).registerAudit,
  ),
  console: group(
    'the web console on loopback: trail, approvals, releases, evals, packs and kill switches, by role and tenant',
    [
      'charter console token --as ada --role auditor --tenant acme',
      'charter console',
      'charter console --port 8781 --trusted-keys pinned.json',
    ],
    async () => (await import('./commands/console/index.js')).registerConsole,
  ),
  demo: group(
    'run the procurement reference end to end in a fresh Charter home (offline, no model needed)',
    ['charter demo', 'charter --home /tmp/charter-demo demo'],
    async () => (await import('./commands/demo.js')).registerDemo,
  ),
  schemas: group(
    'JSON Schemas of every YAML file you write, generated from the schemas Charter loads them with',
    ['charter schemas --out ./my-packs/schemas', 'charter schemas --check'],
    async () => (await import('./commands/schemas.js')).registerSchemas,
  ),
  completion: group(
    'print a shell completion script: charter completion bash|zsh',
    [
      "charter completion bash > ~/.charter-completion.bash && echo 'source ~/.charter-completion.bash' >> ~/.bashrc",
      'charter completion zsh > ~/.charter-completion.zsh',
    ],
    async () => (await import('./commands/completion.js')).registerCompletion,
  ),
} satisfies Record<string, Group>;

export type GroupName = keyof typeof GROUPS;

export function isGroup(name: string): name is GroupName {
  return Object.hasOwn(GROUPS, name);
}

/** Top-level help and "unknown command" (with its did-you-mean) need only the names and descriptions. */
export function registerGroupStubs(program: Command): void {
  for (const [name, g] of Object.entries(GROUPS)) program.command(name).description(g.description);
}

/** Every group registered for real: for shell completion, which lists every command and option. */
export async function loadAllGroups(program: Command): Promise<void> {
  for (const g of Object.values(GROUPS)) await g.load(program);
}
