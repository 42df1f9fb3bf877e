import type { Command } from 'commander';
import { auditRecordJsonSchema } from '../../../audit/index.js';
import { printJson } from '../../output.js';
import { action } from '../../program.js';

export function registerSchema(audit: Command): void {
  audit
    .command('schema')
    .description('JSON Schema (2020-12) of the audit record')
    .action(action(() => printJson(auditRecordJsonSchema())));
}
