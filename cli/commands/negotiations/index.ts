import type { Command } from 'commander';
import { registerAsl } from './asl.js';
import { registerBreakers } from './breakers.js';
import { registerCosts } from './costs.js';
import { registerList } from './list.js';
import { registerResume } from './resume.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerSuppliers } from './suppliers.js';

/** `charter negotiations <verb>`: one file per verb in this folder; home.ts opens a home's procurement stack. */
export function registerNegotiations(program: Command): void {
  const cmd = program
    .command('negotiations')
    .description('the procurement reference: run, serve, resume and inspect negotiations of the seven-node DAG');
  for (const register of [
    registerRun,
    registerResume,
    registerServe,
    registerList,
    registerCosts,
    registerBreakers,
    registerSuppliers,
    registerAsl,
  ])
    register(cmd);
}
