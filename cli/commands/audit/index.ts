import type { Command } from 'commander';
import { registerAppend } from './append.js';
import { registerExport } from './export.js';
import { registerProve } from './prove.js';
import { registerQuery } from './query.js';
import { registerReindex } from './reindex.js';
import { registerSchema } from './schema.js';
import { registerSink } from './sink.js';
import { registerVerifyProof } from './verify-proof.js';
import { registerVerify } from './verify.js';
import { registerWitness } from './witness.js';

/** `charter audit <verb>`: one file per verb in this folder. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail: append, query, verify, prove, export, witness');
  for (const register of [
    registerAppend,
    registerQuery,
    registerVerify,
    registerProve,
    registerVerifyProof,
    registerExport,
    registerSchema,
    registerReindex,
    registerSink,
    registerWitness,
  ])
    register(audit);
}
