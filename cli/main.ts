#!/usr/bin/env node
import { Command } from 'commander';
import { registerKeys } from './commands/keys.js';
import { registerAudit } from './commands/audit.js';
import { registerDatasets } from './commands/datasets.js';
import { registerEvals } from './commands/evals.js';
import { registerGateway } from './commands/gateway.js';
import { registerApprovals } from './commands/approvals.js';
import { registerPacks } from './commands/packs.js';
import { registerManifest } from './commands/manifest.js';
import { registerRelease } from './commands/release.js';
import { registerDemo } from './commands/demo.js';
import { registerNegotiations } from './commands/negotiations.js';
import { configureExits } from './program.js';

const program = new Command('charter')
  .description('Charter: layered Cedar policy packs, signed agent manifests, eval-gated releases and a verifiable decision trail')
  .version(process.env.npm_package_version ?? '0.1.0');
configureExits(program);

// One registration per command group; each lives in cli/commands/<group>.ts and calls
// only the public entry point of its domain folder.
registerKeys(program);
registerAudit(program);
registerDatasets(program);
registerEvals(program);
registerGateway(program);
registerApprovals(program);
registerPacks(program);
registerManifest(program);
registerRelease(program);
registerNegotiations(program);
registerDemo(program);

await program.parseAsync(process.argv);
