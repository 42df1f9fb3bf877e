import type { Command } from 'commander';
import { deployRelease } from '../../../release-gates/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { agentCoreOptions, settingsFrom, type AgentCoreOpts } from './agentcore.js';

export function registerDeploy(release: Command): void {
  agentCoreOptions(
    withJson(
      release
        .command('deploy')
        .description("create or update the agent's current release on AgentCore: policy engine, gateway, Cedar policies and agent runtime"),
    ),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to deploy (its current release in the environment)')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .action(
      action(async (o: AgentCoreOpts & { env: string; agent: string; trustedKeys?: string; json?: boolean }) => {
        const { plan, deployment } = await deployRelease(
          o.env,
          o.agent,
          settingsFrom(o),
          o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {},
        );
        if (o.json) return printJson({ ok: true, manifestDigest: plan.manifestDigest, recordDigest: plan.recordDigest, deployment });
        printLine(`deployed ${plan.agent} (${plan.manifestDigest}) to AgentCore ${plan.environment}`);
        printTable(
          ['resource', 'name', 'id', 'action'],
          [
            ['policy engine', plan.policyEngine.name, deployment.policyEngine.id, deployment.policyEngine.action],
            ['gateway', plan.gateway.name, deployment.gateway.id, deployment.gateway.action],
            ...deployment.policies.map((p) => ['policy', p.name, p.id, p.action]),
            ['agent runtime', plan.runtime.name, `${deployment.runtime.id} v${deployment.runtime.version}`, deployment.runtime.action],
          ],
        );
      }),
    );
}
