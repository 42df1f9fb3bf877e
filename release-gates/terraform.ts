import { exportAsl, STORE_TABLES } from '../orchestrator/index.js';
import { z } from 'zod';
import { contentPath, InputError, readJson } from '../common/index.js';
import type { AgentCorePlan } from './agentcore-plan.js';

/**
 * Terraform's JSON syntax (`*.tf.json`), typed: every value is JSON, `${...}` strings are
 * Terraform expressions (references to other resources), nested blocks are arrays of objects.
 */
export type TfValue = string | number | boolean | null | TfValue[] | { [key: string]: TfValue };
export type TfBody = Record<string, TfValue>;
export interface TerraformJson {
  '//': string;
  terraform: { required_providers: { aws: { source: string; version: string } } };
  resource: Record<string, Record<string, TfBody>>;
}

/** Years the COMPLIANCE-mode default retention keeps each trail object (no one, root included, can shorten it). */
export const AUDIT_RETENTION_YEARS = 7;
/** A resource label: letters, digits and `_`; not starting with a digit. */
const label = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1');
const ref = (type: string, name: string, attr: string) => `\${${type}.${name}.${attr}}`;
/** A literal string that Terraform must not read as a template (`${`, `%{` escaped). */
const lit = (s: string) => s.replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');

const assume = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
const policy = (statements: Array<{ Action: string[]; Resource: string | string[] }>) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements.map((s) => ({ Effect: 'Allow', ...s })) });

/**
 * Terraform for a release: the audit bucket (Object Lock, COMPLIANCE default retention,
 * versioned, encrypted with its own KMS key), the KMS keys with their purposes, per tenancy the
 * policy engine, gateway, targets, policies and agent runtimes (what `deployToAgentCore` creates),
 * the DynamoDB tables of the negotiation store, the Step Functions state machine of the DAG and the
 * EventBridge rule that starts it, and one IAM role per service principal with only the actions
 * and resources it uses. Built as typed objects; `charter release terraform` writes it as JSON.
 */
export function terraformForPlans(plans: AgentCorePlan[]): TerraformJson {
  const first = plans[0];
  if (!first) throw new InputError('no released agents to emit Terraform for');
  if (plans.some((p) => p.environment !== first.environment)) throw new InputError('every plan must be for the same environment');
  const env = first.environment;
  const resource: TerraformJson['resource'] = {};
  const add = (type: string, name: string, body: TfBody) => {
    const bucket = (resource[type] ??= {});
    if (bucket[name] && JSON.stringify(bucket[name]) !== JSON.stringify(body))
      throw new InputError(`two different ${type}.${name} resources`, { field: `${type}.${name}` });
    bucket[name] = body;
  };

  // KMS keys, one per purpose.
  const keys: Record<string, { description: string; usage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' }> = {
    audit: { description: `Charter ${env}: encrypts the audit trail objects (S3 SSE-KMS)`, usage: 'ENCRYPT_DECRYPT' },
    state: { description: `Charter ${env}: encrypts the negotiation store (DynamoDB)`, usage: 'ENCRYPT_DECRYPT' },
    manifest_signing: { description: `Charter ${env}: signs agent manifests (charter packs compile --key kms:...)`, usage: 'SIGN_VERIFY' },
    release_signing: { description: `Charter ${env}: signs release records`, usage: 'SIGN_VERIFY' },
  };
  for (const [name, k] of Object.entries(keys))
    add('aws_kms_key', name, {
      description: k.description,
      key_usage: k.usage,
      customer_master_key_spec: k.usage === 'SIGN_VERIFY' ? 'ECC_NIST_P256' : 'SYMMETRIC_DEFAULT',
      enable_key_rotation: k.usage === 'ENCRYPT_DECRYPT',
      deletion_window_in_days: 30,
      tags: { 'charter:purpose': name, 'charter:environment': env },
    });

  // Audit buckets: the shared one and any a silo tenant names, each Object Lock COMPLIANCE.
  const buckets = new Map<string, string>();
  for (const p of plans) buckets.set(p.audit.bucket, label(`audit_${p.audit.bucket}`));
  for (const [bucket, name] of buckets) {
    add('aws_s3_bucket', name, { bucket, object_lock_enabled: true, force_destroy: false });
    add('aws_s3_bucket_versioning', name, { bucket: ref('aws_s3_bucket', name, 'id'), versioning_configuration: [{ status: 'Enabled' }] });
    add('aws_s3_bucket_object_lock_configuration', name, {
      bucket: ref('aws_s3_bucket', name, 'id'),
      rule: [{ default_retention: [{ mode: 'COMPLIANCE', years: AUDIT_RETENTION_YEARS }] }],
      depends_on: [`aws_s3_bucket_versioning.${name}`],
    });
    add('aws_s3_bucket_server_side_encryption_configuration', name, {
      bucket: ref('aws_s3_bucket', name, 'id'),
      rule: [
        { apply_server_side_encryption_by_default: [{ sse_algorithm: 'aws:kms', kms_master_key_id: ref('aws_kms_key', 'audit', 'arn') }] },
      ],
    });
    add('aws_s3_bucket_public_access_block', name, {
      bucket: ref('aws_s3_bucket', name, 'id'),
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  }

  // DynamoDB: negotiations keyed tenant_id#negotiation_id, idempotency records with a TTL, as the
  // negotiation store (store: kind dynamodb, tables charter-<env>) reads and writes them.
  const tables = Object.fromEntries(STORE_TABLES.names.map((name) => [name, `charter-${env}-${name}`]));
  for (const [name, table] of Object.entries(tables)) {
    const ttl = STORE_TABLES.ttl[name];
    add('aws_dynamodb_table', name, {
      name: table,
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: STORE_TABLES.hashKey,
      range_key: STORE_TABLES.rangeKey,
      attribute: [
        { name: STORE_TABLES.hashKey, type: 'S' },
        { name: STORE_TABLES.rangeKey, type: 'S' },
      ],
      ...(ttl ? { ttl: [{ attribute_name: ttl, enabled: true }] } : {}),
      point_in_time_recovery: [{ enabled: true }],
      server_side_encryption: [{ enabled: true, kms_key_arn: ref('aws_kms_key', 'state', 'arn') }],
    });
  }

  // IAM: one role per service principal, each with only what it uses.
  const role = (name: string, service: string, statements: Array<{ Action: string[]; Resource: string | string[] }>) => {
    add('aws_iam_role', name, { name: `charter-${env}-${name.replaceAll('_', '-')}`, assume_role_policy: assume(service) });
    if (statements.length)
      add('aws_iam_role_policy', name, {
        name: `charter-${env}-${name.replaceAll('_', '-')}`,
        role: ref('aws_iam_role', name, 'id'),
        policy: policy(statements),
      });
  };
  const bucketArns = [...buckets.values()].map((b) => ref('aws_s3_bucket', b, 'arn'));
  role('agent_runtime', 'bedrock-agentcore.amazonaws.com', [
    {
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: [...new Set(plans.map((p) => `arn:aws:s3:::${p.audit.bucket}/${p.audit.prefix}/*`))],
    },
    { Action: ['s3:ListBucket', 's3:GetBucketObjectLockConfiguration'], Resource: bucketArns },
    { Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: ref('aws_kms_key', 'audit', 'arn') },
    { Action: ['bedrock:InvokeModel', 'bedrock:Converse'], Resource: 'arn:aws:bedrock:*::foundation-model/*' },
    { Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: 'arn:aws:ecr:*:*:repository/charter/*' },
    { Action: ['ecr:GetAuthorizationToken'], Resource: '*' },
  ]);
  // The gateway's targets are MCP servers over HTTPS: it needs no AWS permission.
  role('gateway', 'bedrock-agentcore.amazonaws.com', []);
  const asl = exportAsl();
  const functions = [
    ...new Set(
      Object.values(asl.States).flatMap((s) => {
        const fn = (s.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName;
        return typeof fn === 'string' ? [fn] : [];
      }),
    ),
  ];
  role('state_machine', 'states.amazonaws.com', [
    ...(functions.length ? [{ Action: ['lambda:InvokeFunction'], Resource: functions }] : []),
    {
      Action: [...STORE_TABLES.actions],
      Resource: Object.keys(tables).map((t) => ref('aws_dynamodb_table', t, 'arn')),
    },
  ]);
  add('aws_sfn_state_machine', 'negotiation', {
    name: `charter-${env}-negotiation`,
    role_arn: ref('aws_iam_role', 'state_machine', 'arn'),
    definition: lit(JSON.stringify(asl)),
    type: 'STANDARD',
  });
  role('events', 'events.amazonaws.com', [
    { Action: ['states:StartExecution'], Resource: ref('aws_sfn_state_machine', 'negotiation', 'arn') },
  ]);
  add('aws_cloudwatch_event_rule', 'requisition', {
    name: `charter-${env}-requisition`,
    description: 'A requisition submitted: start its negotiation',
    event_pattern: JSON.stringify({ source: ['charter.procurement'], 'detail-type': ['RequisitionSubmitted'] }),
  });
  add('aws_cloudwatch_event_target', 'requisition', {
    rule: ref('aws_cloudwatch_event_rule', 'requisition', 'name'),
    arn: ref('aws_sfn_state_machine', 'negotiation', 'arn'),
    role_arn: ref('aws_iam_role', 'events', 'arn'),
  });

  // AgentCore, per tenancy: engine, gateway, targets (tool lists merged across agents), policies, runtimes.
  const targets = new Map<string, { gw: string; name: string; endpoint: string; tools: Map<string, unknown> }>();
  for (const plan of plans) {
    const scope = label(plan.gateway.name);
    add('aws_bedrockagentcore_policy_engine', scope, { name: plan.policyEngine.name, description: plan.policyEngine.description });
    const g = plan.gateway;
    add('aws_bedrockagentcore_gateway', scope, {
      name: g.name,
      description: g.description,
      role_arn: ref('aws_iam_role', 'gateway', 'arn'),
      authorizer_type: 'CUSTOM_JWT',
      protocol_type: 'MCP',
      authorizer_configuration: [{ custom_jwt_authorizer: [{ discovery_url: g.discoveryUrl, allowed_audience: g.allowedAudience }] }],
      policy_engine_configuration: [{ arn: ref('aws_bedrockagentcore_policy_engine', scope, 'policy_engine_arn'), mode: g.mode }],
    });
    for (const t of plan.targets) {
      const key = label(`${scope}_${t.name}`);
      const have = targets.get(key) ?? { gw: scope, name: t.name, endpoint: t.endpoint, tools: new Map() };
      for (const tool of t.tools) have.tools.set(tool.name, tool);
      targets.set(key, have);
    }
    for (const p of plan.policies)
      add('aws_bedrockagentcore_policy', label(`${scope}_${p.name}`), {
        name: p.name,
        policy_engine_id: ref('aws_bedrockagentcore_policy_engine', scope, 'policy_engine_id'),
        description: p.description,
        validation_mode: 'FAIL_ON_ANY_FINDINGS',
        definition: [{ cedar: [{ statement: p.statement(ref('aws_bedrockagentcore_gateway', scope, 'gateway_arn')) }] }],
        depends_on: plan.targets.map((t) => `aws_bedrockagentcore_gateway_target.${label(`${scope}_${t.name}`)}`),
      });
    const r = plan.runtime;
    add('aws_bedrockagentcore_agent_runtime', label(r.name), {
      agent_runtime_name: r.name,
      description: r.description,
      role_arn: ref('aws_iam_role', 'agent_runtime', 'arn'),
      agent_runtime_artifact: [{ container_configuration: [{ container_uri: r.containerUri }] }],
      network_configuration: [{ network_mode: 'PUBLIC' }],
      environment_variables: { ...r.environmentVariables, CHARTER_GATEWAY_URL: ref('aws_bedrockagentcore_gateway', scope, 'gateway_url') },
      authorizer_configuration: [
        { custom_jwt_authorizer: [{ discovery_url: r.authorizer.discoveryUrl, allowed_audience: r.authorizer.allowedAudience }] },
      ],
      request_header_configuration: [{ request_header_allowlist: r.requestHeaderAllowlist }],
      lifecycle_configuration: [
        { idle_runtime_session_timeout: r.lifecycle.idleRuntimeSessionTimeout, max_lifetime: r.lifecycle.maxLifetime },
      ],
    });
  }
  for (const [key, t] of targets)
    add('aws_bedrockagentcore_gateway_target', key, {
      name: t.name,
      gateway_identifier: ref('aws_bedrockagentcore_gateway', t.gw, 'gateway_id'),
      target_configuration: [
        {
          mcp: [
            {
              mcp_server: [
                {
                  endpoint: t.endpoint,
                  mcp_tool_schema: [{ inline_payload: lit(JSON.stringify([...t.tools.values()])) }],
                },
              ],
            },
          ],
        },
      ],
    });

  return {
    '//': `Generated by charter release terraform --env ${env} from signed release records; do not edit. ${plans
      .map((p) => `${p.agent}${p.tenancy.model === 'silo' ? `@${p.tenancy.tenant}` : ''}: manifest ${p.manifestDigest}`)
      .join('; ')}`,
    terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '>= 6.20' } } },
    resource,
  };
}

type SchemaType = string | [string, SchemaType];
interface SchemaAttribute {
  type: SchemaType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}
interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, { nesting_mode: string; block: SchemaBlock; min_items?: number; max_items?: number }>;
}
export interface ProviderSchemaSubset {
  resource_schemas: Record<string, { block: SchemaBlock }>;
}

/** The checked-in subset of the AWS provider's resource schema `charter release terraform` is checked against. */
export function providerSchemaSubset(): ProviderSchemaSubset {
  const file = contentPath('release-gates', 'terraform-schema', 'aws-provider-subset.json');
  return readJson(
    file,
    z.object({ resource_schemas: z.record(z.string(), z.object({ block: z.custom<SchemaBlock>((b) => typeof b === 'object') })) }),
  );
}

/**
 * Checks Terraform JSON against a provider schema subset, as `terraform validate` would with the
 * provider: known resource types and arguments only (no computed-only attribute set), required
 * arguments and blocks present, block counts within bounds, value types, and every reference
 * `${type.name.attr}` and `depends_on` entry naming a resource of the document and an attribute
 * of its type. Returns the findings (path: problem); none means it passes.
 */
export function checkTerraform(doc: unknown, schema: ProviderSchemaSubset = providerSchemaSubset()): string[] {
  const findings: string[] = [];
  const d = doc as Partial<TerraformJson>;
  const extra = Object.keys(d).filter((k) => !['//', 'terraform', 'resource'].includes(k));
  if (extra.length) findings.push(`top level: unexpected ${extra.join(', ')}`);
  if (d.terraform?.required_providers?.aws?.source !== 'hashicorp/aws')
    findings.push('terraform.required_providers.aws.source must be hashicorp/aws');
  const resources = d.resource ?? {};
  const exists = (type: string, name: string) => Boolean(resources[type]?.[name]);
  const refs = (path: string, s: string) => {
    for (const m of s.matchAll(/(?<!\$)\$\{([^}]*)\}/g)) {
      const [type, name, attr] = m[1]!.split('.');
      if (!type || !name || !attr || !exists(type, name))
        findings.push(`${path}: reference \${${m[1]}} names no resource of this document`);
      else if (!schema.resource_schemas[type]!.block.attributes?.[attr]) findings.push(`${path}: ${type} has no attribute ${attr}`);
    }
  };
  const value = (path: string, type: SchemaType, v: unknown): void => {
    if (typeof v === 'string' && /^\$\{[^}]*\}$/.test(v)) return refs(path, v);
    if (typeof type === 'string') {
      const ok =
        type === 'string'
          ? typeof v === 'string'
          : type === 'number'
            ? typeof v === 'number'
            : type === 'bool'
              ? typeof v === 'boolean'
              : true;
      if (!ok) findings.push(`${path}: expected ${type}, got ${JSON.stringify(v)?.slice(0, 40)}`);
      else if (typeof v === 'string') refs(path, v);
      return;
    }
    const [kind, element] = type;
    if (kind === 'map') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return void findings.push(`${path}: expected a map`);
      for (const [k, e] of Object.entries(v)) value(`${path}.${k}`, element, e);
    } else {
      if (!Array.isArray(v)) return void findings.push(`${path}: expected a ${kind}`);
      if (kind === 'set' && new Set(v.map((e) => JSON.stringify(e))).size !== v.length) findings.push(`${path}: a set has duplicates`);
      v.forEach((e, i) => value(`${path}[${i}]`, element, e));
    }
  };
  const block = (path: string, b: SchemaBlock, body: unknown) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return void findings.push(`${path}: expected an object`);
    const o = body as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      const attr = b.attributes?.[k];
      const nested = b.block_types?.[k];
      if (attr) {
        if (attr.computed && !attr.optional && !attr.required) findings.push(`${path}.${k}: is computed by the provider and cannot be set`);
        else value(`${path}.${k}`, attr.type, v);
      } else if (nested) {
        const items = Array.isArray(v) ? v : [v];
        if (nested.max_items !== undefined && items.length > nested.max_items)
          findings.push(`${path}.${k}: at most ${nested.max_items} block(s)`);
        items.forEach((item, i) => block(`${path}.${k}[${i}]`, nested.block, item));
      } else findings.push(`${path}.${k}: unsupported argument`);
    }
    for (const [k, attr] of Object.entries(b.attributes ?? {}))
      if (attr.required && o[k] === undefined) findings.push(`${path}: missing required ${k}`);
    for (const [k, nested] of Object.entries(b.block_types ?? {}))
      if ((nested.min_items ?? 0) > 0 && (o[k] === undefined || (Array.isArray(o[k]) && (o[k] as unknown[]).length < nested.min_items!)))
        findings.push(`${path}: needs at least ${nested.min_items} ${k} block(s)`);
  };
  for (const [type, instances] of Object.entries(resources)) {
    const s = schema.resource_schemas[type];
    if (!s) {
      findings.push(`resource.${type}: not a resource type of the provider schema`);
      continue;
    }
    for (const [name, body] of Object.entries(instances)) {
      const path = `resource.${type}.${name}`;
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) findings.push(`${path}: invalid resource name`);
      const { depends_on: deps, ...rest } = body;
      if (deps !== undefined)
        for (const dep of Array.isArray(deps) ? deps : [deps]) {
          const [t, n] = String(dep).split('.');
          if (!t || !n || !exists(t, n)) findings.push(`${path}.depends_on: ${String(dep)} names no resource of this document`);
        }
      block(path, s.block, rest);
    }
  }
  return findings;
}
