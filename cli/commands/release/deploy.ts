import type { Command } from 'commander';
import { deployRelease, planRelease, type AgentCorePlan } from '../../../release-gates/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { agentCoreOptions, settingsFrom, type AgentCoreOpts } from './agentcore.js';

/** The AWS calls a deploy of one plan makes, in order (what --dry-run prints). */
function plannedCalls(plan: AgentCorePlan): Array<[string, string, string]> {
  const tenancy = plan.tenancy.model === 'silo' ? `silo ${plan.tenancy.tenant}` : 'pool';
  return [
    [tenancy, 'CreatePolicyEngine (if absent)', plan.policyEngine.name],
    [tenancy, `CreateGateway / UpdateGateway (CUSTOM_JWT, ${plan.gateway.mode})`, plan.gateway.name],
    ...plan.targets.map((t): [string, string, string] => [
      tenancy,
      `CreateGatewayTarget / UpdateGatewayTarget (${t.tools.length} tools)`,
      t.name,
    ]),
    ...plan.policies.map((p): [string, string, string] => [tenancy, 'CreatePolicy / UpdatePolicy (FAIL_ON_ANY_FINDINGS)', p.name]),
    [tenancy, `DeletePolicy (${plan.policyPrefix}* not planned)`, plan.policyPrefix],
    [tenancy, 'CreateAgentRuntime / UpdateAgentRuntime (JWT authorizer, header allowlist, lifecycle)', plan.runtime.name],
    [tenancy, 'audit trail (CHARTER_AUDIT_SINK)', `s3://${plan.audit.bucket}/${plan.audit.prefix}`],
  ];
}

export function registerDeploy(release: Command): void {
  agentCoreOptions(
    withJson(
      release
        .command('deploy')
        .description(
          "create or update the agent's current release on AgentCore, for the pool and each silo tenant of tenants.yaml: policy engine, gateway, targets, agent-scoped Cedar policies and agent runtime",
        ),
    ),
  )
    .requiredOption('--env <env>', 'environment: dev, stg or prod')
    .requiredOption('--agent <name>', 'agent to deploy (its current release in the environment)')
    .option('--dry-run', 'print the plan of AWS calls per tenancy model and make none')
    .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)')
    .addHelpText(
      'after',
      `
Examples:
  charter release deploy --env prod --agent spot-bidding --dry-run --role-arn ARN --container-uri URI --discovery-url URL --tools-url URL
  charter release deploy --env prod --agent spot-bidding --role-arn ARN --container-uri URI --discovery-url URL --tools-url URL --json`,
    )
    .action(
      action(async (o: AgentCoreOpts & { env: string; agent: string; dryRun?: boolean; trustedKeys?: string; json?: boolean }) => {
        const home = o.trustedKeys ? { trustedKeysFile: o.trustedKeys } : {};
        if (o.dryRun) {
          const plans = planRelease(o.env, o.agent, settingsFrom(o), home);
          const calls = plans.flatMap(plannedCalls);
          if (o.json)
            return printJson({
              ok: true,
              dryRun: true,
              plans: plans.map((p) => ({
                tenancy: p.tenancy,
                manifestDigest: p.manifestDigest,
                calls: plannedCalls(p).map(([, call, name]) => ({ call, name })),
              })),
            });
          printLine(`plan for ${o.agent} (${plans[0]!.manifestDigest}) on AgentCore ${o.env}; nothing is called (--dry-run)`);
          return printTable(['tenancy', 'AWS call', 'resource'], calls);
        }
        const deployed = await deployRelease(o.env, o.agent, settingsFrom(o), home);
        if (o.json)
          return printJson({
            ok: true,
            manifestDigest: deployed[0]!.plan.manifestDigest,
            recordDigest: deployed[0]!.plan.recordDigest,
            deployments: deployed.map(({ plan, deployment }) => ({ tenancy: plan.tenancy, deployment })),
          });
        for (const { plan, deployment } of deployed) {
          printLine(
            `deployed ${plan.agent} (${plan.manifestDigest}) to AgentCore ${plan.environment} (${plan.tenancy.model === 'silo' ? `silo ${plan.tenancy.tenant}` : 'pool'})`,
          );
          printTable(
            ['resource', 'name', 'id', 'action'],
            [
              ['policy engine', plan.policyEngine.name, deployment.policyEngine.id, deployment.policyEngine.action],
              ['gateway', plan.gateway.name, deployment.gateway.id, deployment.gateway.action],
              ...deployment.targets.map((t) => ['target', `${t.name} (${t.tools} tools)`, t.id, t.action]),
              ...deployment.policies.map((p) => ['policy', p.name, p.id, p.action]),
              ['agent runtime', plan.runtime.name, `${deployment.runtime.id} v${deployment.runtime.version}`, deployment.runtime.action],
            ],
          );
        }
      }),
    );
}
