#!/usr/bin/env node
import { Command } from 'commander';
import { configureExits } from './program.js';

type Register = (program: Command) => void;

/**
 * Command groups, each in cli/commands/<group>.ts calling only the public entry point of its
 * domain folder. A group is imported only when it is the one invoked: loading all of them
 * (Cedar, promptfoo, the AWS SDKs) costs seconds, which every CI step would pay.
 */
const groups: Record<string, () => Promise<Register>> = {
  packs: async () => (await import('./commands/packs.js')).registerPacks,
  manifest: async () => (await import('./commands/manifest.js')).registerManifest,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  datasets: async () => (await import('./commands/datasets.js')).registerDatasets,
  evals: async () => (await import('./commands/evals.js')).registerEvals,
  release: async () => (await import('./commands/release.js')).registerRelease,
  gateway: async () => (await import('./commands/gateway.js')).registerGateway,
  approvals: async () => (await import('./commands/approvals.js')).registerApprovals,
  negotiations: async () => (await import('./commands/negotiations.js')).registerNegotiations,
  agents: async () => (await import('./commands/agents.js')).registerAgents,
  killswitch: async () => (await import('./commands/killswitch.js')).registerKillSwitch,
  audit: async () => (await import('./commands/audit/index.js')).registerAudit,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
};

const program = new Command('charter')
  .description('Charter: layered Cedar policy packs, signed agent manifests, eval-gated releases and a verifiable decision trail')
  .version(process.env.npm_package_version ?? '0.1.0');
configureExits(program);

// The first non-option argument names the group; without one (top-level help), load them all.
const invoked = process.argv.slice(2).find((a) => !a.startsWith('-'));
const load = invoked && invoked in groups ? [groups[invoked]!] : Object.values(groups);
for (const loader of load) (await loader())(program);

await program.parseAsync(process.argv);
