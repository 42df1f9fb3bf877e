import type { Command } from 'commander';
import { FindingError, InputError, writeFileAtomic } from '../../../common/index.js';
import { checkTerraform, releaseTerraform } from '../../../release-gates/index.js';
import { printJson } from '../../output.js';
import { action, withJson } from '../../program.js';
import { agentCoreOptions, settingsFrom, type AgentCoreOpts } from './agentcore.js';

export function registerTerraform(release: Command): void {
  agentCoreOptions(
    withJson(
      release
        .command('terraform')
        .description(
          "emit Terraform in its JSON syntax (.tf.json) for an environment: audit bucket (Object Lock COMPLIANCE), KMS keys, AgentCore per tenancy model, DynamoDB tables, the negotiation state machine and its EventBridge rule, IAM roles; checked against the shipped subset of the AWS provider's schema before it is written",
        ),
    ),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .option('--out <file>', 'write the .tf.json here instead of stdout')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .addHelpText(
      'after',
      `
Examples:
  charter release terraform --env prod --role-arn ARN --container-uri URI --discovery-url URL --tools-url URL --out charter-prod.tf.json`,
    )
    .action(
      action((o: AgentCoreOpts & { env: string; out?: string; trustedKeys?: string; json?: boolean }) => {
        if (o.out && !o.out.endsWith('.tf.json'))
          throw new InputError(`--out must end in .tf.json (Terraform reads its JSON syntax from those), got ${o.out}`, { field: '--out' });
        const doc = releaseTerraform(o.env, settingsFrom(o), o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {});
        const findings = checkTerraform(doc);
        if (findings.length)
          throw new FindingError(`the emitted Terraform does not pass the provider schema check: ${findings.join('; ')}`);
        const text = JSON.stringify(doc, null, 2) + '\n';
        if (o.out) writeFileAtomic(o.out, text);
        if (o.json)
          return printJson({
            ok: true,
            ...(o.out ? { file: o.out } : { terraform: doc }),
            resources: Object.values(doc.resource).reduce((n, r) => n + Object.keys(r).length, 0),
          });
        if (!o.out) process.stdout.write(text);
      }),
    );
}
