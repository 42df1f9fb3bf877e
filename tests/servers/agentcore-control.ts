import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/**
 * A local server speaking the Bedrock AgentCore control plane's REST-JSON protocol (the routes,
 * status codes, `x-amzn-errortype` errors and RFC 3339 timestamps the AWS SDK expects) for
 * policy engines, policies, gateways, gateway targets and agent runtimes, so deploy code runs
 * through the real `@aws-sdk/client-bedrock-agentcore-control` client. State is in memory.
 *
 * Like the service, it requires a SigV4-signed request for the `bedrock-agentcore` service,
 * rejects bad Cedar syntax synchronously (ValidationException), and checks every policy against
 * the Cedar schema generated from the tools of the targets of every gateway attached to its
 * engine (cedar-wasm strict validation: actions that exist, `AgentCore::` entities only,
 * `context.input` typed from the tool's input schema, claims as principal tags); a finding makes
 * the policy CREATE_FAILED / UPDATE_FAILED with the reasons. Runtime request-header allowlists
 * and lifecycle values are checked as documented. Each gateway also has a local data plane
 * (`gatewayUrl`) that decides `tools/call` with cedar-wasm over the deployed policies.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const GATEWAY_NAME = /^([0-9a-zA-Z][-]?){1,48}$/;

type Json = Record<string, unknown>;

interface Stored {
  engines: Map<string, Json>;
  policies: Map<string, Map<string, Json>>;
  gateways: Map<string, Json>;
  /** This server's URL (gateway data planes are under it). */
  base: string;
  /** Where a target's https endpoint is reached locally (as DNS and TLS would route it); unmapped endpoints are unreachable. */
  upstreams: Map<string, string>;
  /** Targets per gateway id. */
  targets: Map<string, Map<string, Json>>;
  runtimes: Map<string, Json>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Json;
}

export interface AgentCoreControlServer {
  endpoint: string;
  requests: RecordedRequest[];
  /** Every tool call the gateways' data planes decided. */
  decisions: GatewayDecision[];
  state: Stored;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const now = () => new Date().toISOString();
const newId = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;
const arn = (kind: string, id: string) => `arn:aws:bedrock-agentcore:${REGION}:${ACCOUNT}:${kind}/${id}`;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ApiError(404, 'ResourceNotFoundException', `${what} not found`);
  return value;
}

function requireFields(body: Json, fields: string[]): void {
  const missing = fields.filter((f) => body[f] === undefined || body[f] === null || body[f] === '');
  if (missing.length) throw new ApiError(400, 'ValidationException', `missing required field(s): ${missing.join(', ')}`);
}

/** A tool's input JSON Schema as the Cedar type AgentCore derives (string, integer, boolean, number, arrays, objects). */
function cedarType(schema: unknown): Json | undefined {
  const s = (schema ?? {}) as Json;
  const type = s.type ?? (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string') ? 'string' : undefined);
  if (type === 'string') return { type: 'String' };
  if (type === 'integer') return { type: 'Long' };
  if (type === 'boolean') return { type: 'Boolean' };
  if (type === 'number') return { type: 'Extension', name: 'decimal' };
  if (type === 'array') {
    const element = cedarType(s.items);
    return element ? { type: 'Set', element } : undefined;
  }
  if (type === 'object') {
    const required = new Set((s.required as string[] | undefined) ?? []);
    const attributes: Json = {};
    for (const [name, prop] of Object.entries((s.properties ?? {}) as Json)) {
      const t = cedarType(prop);
      if (t) attributes[name] = { ...t, required: required.has(name) };
    }
    return { type: 'Record', attributes };
  }
  return undefined;
}

/** The tools a target lists (an MCP server target's static tool list). */
function targetTools(target: Json): Array<{ name: string; inputSchema?: unknown }> {
  const inline = (
    (((target.targetConfiguration as Json | undefined)?.mcp as Json | undefined)?.mcpServer as Json | undefined)?.mcpToolSchema as
      Json | undefined
  )?.inlinePayload;
  return typeof inline === 'string' ? (JSON.parse(inline) as Array<{ name: string; inputSchema?: unknown }>) : [];
}

/**
 * The Cedar schema AgentCore generates for the gateways a policy engine is attached to:
 * `AgentCore::OAuthUser` (id from `sub`, JWT claims as tags), `AgentCore::Gateway`, and an
 * action `<target>___<tool>` per tool of every target, in CallTool (in Mcp), whose context is
 * `{ input }` typed from the tool's input schema.
 */
export function gatewaySchema(state: Stored, engineArn: string): Json {
  const actions: Json = { Mcp: {}, CallTool: { memberOf: [{ id: 'Mcp' }] } };
  for (const gw of state.gateways.values()) {
    if ((gw.policyEngineConfiguration as Json | undefined)?.arn !== engineArn) continue;
    for (const target of state.targets.get(String(gw.gatewayId))?.values() ?? []) {
      for (const tool of targetTools(target)) {
        actions[`${String(target.name)}___${tool.name}`] = {
          memberOf: [{ id: 'CallTool' }],
          appliesTo: {
            principalTypes: ['OAuthUser'],
            resourceTypes: ['Gateway'],
            context: {
              type: 'Record',
              attributes: { input: { ...(cedarType(tool.inputSchema) ?? { type: 'Record', attributes: {} }), required: true } },
            },
          },
        };
      }
    }
  }
  return {
    AgentCore: {
      entityTypes: {
        OAuthUser: { shape: { type: 'Record', attributes: { id: { type: 'String' } } }, tags: { type: 'String' } },
        Gateway: {},
      },
      actions,
    },
  };
}

/**
 * Synchronous syntax check, then the schema check the service always runs (whatever the
 * validation mode) against the schema of every gateway attached to the engine: an action of a
 * target or tool that does not exist, an entity type outside `AgentCore::`, a context field other
 * than `context.input`'s are findings reported through the policy's status.
 */
function validatePolicy(state: Stored, engineArn: string, body: Json): { status: 'ok' } | { status: 'findings'; reasons: string[] } {
  const statement = ((body.definition as Json | undefined)?.cedar as Json | undefined)?.statement;
  if (typeof statement !== 'string') throw new ApiError(400, 'ValidationException', 'definition.cedar.statement is required');
  const parsed = cedar.policyToJson(statement);
  if (parsed.type === 'failure')
    throw new ApiError(400, 'ValidationException', `invalid Cedar: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const checked = cedar.validate({
    schema: gatewaySchema(state, engineArn) as cedar.Schema,
    policies: { staticPolicies: { policy0: statement } },
    validationSettings: { mode: 'strict' },
  });
  if (checked.type === 'failure') return { status: 'findings', reasons: checked.errors.map((e) => e.message) };
  if (checked.validationErrors.length)
    return {
      status: 'findings',
      reasons: checked.validationErrors.map((e) => `${e.error.message}${e.error.help ? ` (${e.error.help})` : ''}`),
    };
  return { status: 'ok' };
}

/** Applies `maxResults`/`nextToken` to a list (the token is the next offset). */
function page<T>(items: T[], query: URLSearchParams, pageSize: number): { items: T[]; nextToken?: string } {
  const start = Number(query.get('nextToken') ?? 0);
  const size = Math.min(Number(query.get('maxResults') ?? pageSize), pageSize);
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextToken: String(start + size) } : { items: slice };
}

function route(state: Stored, method: string, path: string, query: URLSearchParams, body: Json, pageSize: number): [number, Json] {
  let m: RegExpExecArray | null;
  // Policy engines
  if (path === '/policy-engines' && method === 'GET') {
    const { items, nextToken } = page([...state.engines.values()], query, pageSize);
    return [200, { policyEngines: items, ...(nextToken ? { nextToken } : {}) }];
  }
  if (path === '/policy-engines' && method === 'POST') {
    requireFields(body, ['name']);
    if (!NAME.test(String(body.name)))
      throw new ApiError(400, 'ValidationException', `name '${String(body.name)}' does not match ${NAME.source}`);
    if ([...state.engines.values()].some((e) => e.name === body.name))
      throw new ApiError(409, 'ConflictException', `policy engine ${String(body.name)} exists`);
    const id = newId(String(body.name));
    const engine = {
      policyEngineId: id,
      name: body.name,
      description: body.description,
      policyEngineArn: arn('policy-engine', id),
      status: 'ACTIVE',
      statusReasons: [],
      createdAt: now(),
      updatedAt: now(),
    };
    state.engines.set(id, engine);
    state.policies.set(id, new Map());
    return [202, engine];
  }
  if ((m = /^\/policy-engines\/([^/]+)$/.exec(path)) && method === 'GET')
    return [200, need(state.engines.get(m[1]!), `policy engine ${m[1]}`)];
  if ((m = /^\/policy-engines\/([^/]+)\/policies$/.exec(path))) {
    const engineId = m[1]!;
    need(state.engines.get(engineId), `policy engine ${engineId}`);
    const policies = state.policies.get(engineId)!;
    if (method === 'GET') {
      const { items, nextToken } = page([...policies.values()], query, pageSize);
      return [200, { policies: items, ...(nextToken ? { nextToken } : {}) }];
    }
    if (method === 'POST') {
      requireFields(body, ['name', 'definition']);
      if (!NAME.test(String(body.name)))
        throw new ApiError(400, 'ValidationException', `name '${String(body.name)}' does not match ${NAME.source}`);
      if ([...policies.values()].some((p) => p.name === body.name))
        throw new ApiError(409, 'ConflictException', `policy ${String(body.name)} exists`);
      const v = validatePolicy(state, String(state.engines.get(engineId)!.policyEngineArn), body);
      const id = newId('policy');
      const policy = {
        policyId: id,
        name: body.name,
        policyEngineId: engineId,
        policyArn: arn(`policy-engine/${engineId}/policy`, id),
        definition: body.definition,
        description: body.description,
        status: v.status === 'ok' ? 'ACTIVE' : 'CREATE_FAILED',
        statusReasons: v.status === 'ok' ? [] : v.reasons,
        createdAt: now(),
        updatedAt: now(),
      };
      policies.set(id, policy);
      return [202, policy];
    }
  }
  if ((m = /^\/policy-engines\/([^/]+)\/policies\/([^/]+)$/.exec(path))) {
    const policies = need(state.policies.get(m[1]!), `policy engine ${m[1]}`);
    const policy = need(policies.get(m[2]!), `policy ${m[2]}`);
    if (method === 'GET') return [200, policy];
    if (method === 'DELETE') {
      policies.delete(m[2]!);
      return [202, { ...policy, status: 'DELETING' }];
    }
    if (method === 'PATCH') {
      const next = { ...policy };
      if (body.definition) {
        const v = validatePolicy(state, String(state.engines.get(m[1]!)!.policyEngineArn), body);
        next.definition = body.definition;
        next.status = v.status === 'ok' ? 'ACTIVE' : 'UPDATE_FAILED';
        next.statusReasons = v.status === 'ok' ? [] : v.reasons;
      }
      if (body.description) next.description = (body.description as Json).optionalValue;
      next.updatedAt = now();
      policies.set(m[2]!, next);
      return [202, next];
    }
  }
  // Gateways
  if (path === '/gateways/' && method === 'GET') {
    const { items, nextToken } = page(
      [...state.gateways.values()].map((g) => ({
        gatewayId: g.gatewayId,
        name: g.name,
        status: g.status,
        description: g.description,
        createdAt: g.createdAt,
        updatedAt: g.updatedAt,
        authorizerType: g.authorizerType,
        protocolType: g.protocolType,
      })),
      query,
      pageSize,
    );
    return [200, { items, ...(nextToken ? { nextToken } : {}) }];
  }
  if (path === '/gateways/' && method === 'POST') {
    requireFields(body, ['name', 'roleArn', 'authorizerType']);
    if (!GATEWAY_NAME.test(String(body.name)))
      throw new ApiError(400, 'ValidationException', `gateway name '${String(body.name)}' is invalid`);
    if ([...state.gateways.values()].some((g) => g.name === body.name))
      throw new ApiError(409, 'ConflictException', `gateway ${String(body.name)} exists`);
    const id = newId(String(body.name));
    const gw = {
      ...body,
      clientToken: undefined,
      gatewayId: id,
      gatewayArn: arn('gateway', id),
      // The local data plane of this gateway (the service's is https://<id>.gateway.bedrock-agentcore.<region>.amazonaws.com/mcp).
      gatewayUrl: `${state.base}/gateway/${id}/mcp`,
      status: 'READY',
      statusReasons: [],
      createdAt: now(),
      updatedAt: now(),
    };
    attachEngine(state, body);
    state.gateways.set(id, gw);
    state.targets.set(id, new Map());
    return [202, gw];
  }
  if ((m = /^\/gateways\/([^/]+)\/$/.exec(path))) {
    const gw = need(state.gateways.get(m[1]!), `gateway ${m[1]}`);
    if (method === 'GET') return [200, gw];
    if (method === 'PUT') {
      requireFields(body, ['name', 'roleArn', 'authorizerType']);
      attachEngine(state, body);
      const next = { ...gw, ...body, gatewayIdentifier: undefined, updatedAt: now() };
      state.gateways.set(m[1]!, next);
      return [202, next];
    }
  }
  // Gateway targets
  if ((m = /^\/gateways\/([^/]+)\/targets\/$/.exec(path))) {
    const gw = need(state.gateways.get(m[1]!), `gateway ${m[1]}`);
    const targets = state.targets.get(m[1]!)!;
    if (method === 'GET') {
      const { items, nextToken } = page(
        [...targets.values()].map((t) => ({
          targetId: t.targetId,
          name: t.name,
          status: t.status,
          description: t.description,
          createdAt: t.createdAt,
          updatedAt: t.updatedAt,
        })),
        query,
        pageSize,
      );
      return [200, { items, ...(nextToken ? { nextToken } : {}) }];
    }
    if (method === 'POST') {
      validateTarget(body);
      if ([...targets.values()].some((t) => t.name === body.name))
        throw new ApiError(409, 'ConflictException', `target ${String(body.name)} exists`);
      const id = randomBytes(5).toString('hex').toUpperCase();
      const target = {
        ...body,
        clientToken: undefined,
        gatewayArn: gw.gatewayArn,
        targetId: id,
        status: 'READY',
        statusReasons: [],
        createdAt: now(),
        updatedAt: now(),
      };
      targets.set(id, target);
      return [202, target];
    }
  }
  if ((m = /^\/gateways\/([^/]+)\/targets\/([^/]+)\/$/.exec(path))) {
    need(state.gateways.get(m[1]!), `gateway ${m[1]}`);
    const targets = state.targets.get(m[1]!)!;
    const target = need(targets.get(m[2]!), `target ${m[2]}`);
    if (method === 'GET') return [200, target];
    if (method === 'PUT') {
      validateTarget(body);
      const next = { ...target, ...body, gatewayIdentifier: undefined, targetId: m[2]!, updatedAt: now() };
      targets.set(m[2]!, next);
      return [202, next];
    }
    if (method === 'DELETE') {
      targets.delete(m[2]!);
      return [202, { gatewayArn: target.gatewayArn, targetId: m[2]!, status: 'DELETING' }];
    }
  }
  // Agent runtimes (note: List is POST /runtimes/, Create is PUT /runtimes/)
  if (path === '/runtimes/' && method === 'POST') {
    const { items, nextToken } = page(
      [...state.runtimes.values()].map((r) => ({
        agentRuntimeArn: r.agentRuntimeArn,
        agentRuntimeId: r.agentRuntimeId,
        agentRuntimeVersion: r.agentRuntimeVersion,
        agentRuntimeName: r.agentRuntimeName,
        description: r.description,
        lastUpdatedAt: r.lastUpdatedAt,
        status: r.status,
      })),
      query,
      pageSize,
    );
    return [200, { agentRuntimes: items, ...(nextToken ? { nextToken } : {}) }];
  }
  if (path === '/runtimes/' && method === 'PUT') {
    requireFields(body, ['agentRuntimeName', 'agentRuntimeArtifact', 'roleArn', 'networkConfiguration']);
    validateRuntime(body);
    if (!NAME.test(String(body.agentRuntimeName)))
      throw new ApiError(400, 'ValidationException', `agentRuntimeName '${String(body.agentRuntimeName)}' does not match ${NAME.source}`);
    if ([...state.runtimes.values()].some((r) => r.agentRuntimeName === body.agentRuntimeName))
      throw new ApiError(409, 'ConflictException', `agent runtime ${String(body.agentRuntimeName)} exists`);
    const id = newId(String(body.agentRuntimeName));
    const rt = {
      ...body,
      clientToken: undefined,
      agentRuntimeId: id,
      agentRuntimeArn: arn('runtime', id),
      agentRuntimeVersion: '1',
      status: 'READY',
      createdAt: now(),
      lastUpdatedAt: now(),
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800, ...(body.lifecycleConfiguration as Json | undefined) },
    };
    state.runtimes.set(id, rt);
    return [202, rt];
  }
  if ((m = /^\/runtimes\/([^/]+)\/$/.exec(path))) {
    const rt = need(state.runtimes.get(m[1]!), `agent runtime ${m[1]}`);
    if (method === 'GET') return [200, rt];
    if (method === 'PUT') {
      requireFields(body, ['agentRuntimeArtifact', 'roleArn']);
      validateRuntime(body);
      const next = {
        ...rt,
        ...body,
        clientToken: undefined,
        agentRuntimeVersion: String(Number(rt.agentRuntimeVersion) + 1),
        lastUpdatedAt: now(),
      };
      state.runtimes.set(m[1]!, next);
      return [202, next];
    }
  }
  throw new ApiError(404, 'UnknownOperationException', `no operation for ${method} ${path}`);
}

const TARGET_NAME = /^([0-9a-zA-Z][-]?){1,100}$/;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** CreateGatewayTarget / UpdateGatewayTarget: a valid name, an MCP server endpoint, a well-formed static tool list. */
function validateTarget(body: Json): void {
  requireFields(body, ['name', 'targetConfiguration']);
  if (!TARGET_NAME.test(String(body.name))) throw new ApiError(400, 'ValidationException', `target name '${String(body.name)}' is invalid`);
  const server = ((body.targetConfiguration as Json).mcp as Json | undefined)?.mcpServer as Json | undefined;
  if (!server)
    throw new ApiError(400, 'ValidationException', 'targetConfiguration.mcp.mcpServer is required (the only kind this server models)');
  if (!/^https:\/\/.+/.test(String(server.endpoint)) || !URL.canParse(String(server.endpoint)))
    throw new ApiError(400, 'ValidationException', 'mcpServer.endpoint must match https://.*');
  let tools: unknown;
  try {
    tools = JSON.parse(String((server.mcpToolSchema as Json | undefined)?.inlinePayload ?? '[]'));
  } catch {
    throw new ApiError(400, 'ValidationException', 'mcpToolSchema.inlinePayload is not JSON');
  }
  if (!Array.isArray(tools)) throw new ApiError(400, 'ValidationException', 'mcpToolSchema.inlinePayload must be a JSON array of tools');
  for (const t of tools as Json[]) {
    if (typeof t.name !== 'string' || !TOOL_NAME.test(t.name) || typeof t.inputSchema !== 'object')
      throw new ApiError(
        400,
        'ValidationException',
        `tool ${JSON.stringify(t.name)} needs a name matching ${TOOL_NAME.source} and an inputSchema`,
      );
  }
}

/** Headers a runtime may pass to its container (the documented allowlist rules). */
function validateRuntime(body: Json): void {
  const allow = ((body.requestHeaderConfiguration as Json | undefined)?.requestHeaderAllowlist as string[] | undefined) ?? [];
  if (allow.length > 20) throw new ApiError(400, 'ValidationException', 'at most 20 request headers may be allowlisted');
  for (const h of allow) {
    const lower = h.toLowerCase();
    const jwt = Boolean((body.authorizerConfiguration as Json | undefined)?.customJWTAuthorizer);
    const ok =
      /^[A-Za-z0-9_-]+$/.test(h) &&
      !lower.startsWith('x-amz-') &&
      (!lower.startsWith('x-amzn-') || lower.startsWith('x-amzn-bedrock-agentcore-runtime-custom-')) &&
      (lower !== 'authorization' || jwt);
    if (!ok) throw new ApiError(400, 'ValidationException', `request header '${h}' may not be allowlisted`);
  }
  const life = body.lifecycleConfiguration as Json | undefined;
  for (const k of ['idleRuntimeSessionTimeout', 'maxLifetime'] as const) {
    const v = life?.[k];
    if (v !== undefined && (typeof v !== 'number' || v < 60 || v > 28_800))
      throw new ApiError(400, 'ValidationException', `lifecycleConfiguration.${k} must be 60-28800 seconds`);
  }
}

/** A gateway may only point at a policy engine that exists. */
function attachEngine(state: Stored, body: Json): void {
  const config = body.policyEngineConfiguration as Json | undefined;
  if (!config) return;
  if (![...state.engines.values()].some((e) => e.policyEngineArn === config.arn))
    throw new ApiError(400, 'ValidationException', `policy engine ${String(config.arn)} does not exist`);
  if (config.mode !== 'ENFORCE' && config.mode !== 'LOG_ONLY')
    throw new ApiError(400, 'ValidationException', `mode must be ENFORCE or LOG_ONLY`);
}

export interface GatewayDecision {
  gatewayId: string;
  sub: string;
  action: string;
  decision: 'Allow' | 'Deny';
  /** Ids (names) of the policies that decided. */
  policies: string[];
}

/** The identity provider's keys, found through its OIDC discovery document (as the CUSTOM_JWT authorizer does). */
const jwksCache = new Map<string, { issuer: string; keys: ReturnType<typeof createRemoteJWKSet> }>();
async function verifyBearer(gw: Json, authorization: string | undefined): Promise<JWTPayload> {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (!token) throw new ApiError(401, 'UnauthorizedException', 'missing bearer token');
  const jwt = ((gw.authorizerConfiguration as Json).customJWTAuthorizer ?? {}) as Json;
  const url = String(jwt.discoveryUrl);
  let idp = jwksCache.get(url);
  if (!idp) {
    const doc = (await (await fetch(url)).json()) as { issuer: string; jwks_uri: string };
    idp = { issuer: doc.issuer, keys: createRemoteJWKSet(new URL(doc.jwks_uri)) };
    jwksCache.set(url, idp);
  }
  try {
    return (await jwtVerify(token, idp.keys, { issuer: idp.issuer, audience: jwt.allowedAudience as string[] })).payload;
  } catch (err) {
    throw new ApiError(401, 'UnauthorizedException', `token rejected: ${(err as Error).message}`);
  }
}

/**
 * The gateway's data plane for `tools/call` (MCP JSON-RPC over HTTP): the bearer token checked
 * by the gateway's JWT authorizer, then the Cedar request AgentCore builds (principal
 * `AgentCore::OAuthUser` with the token's `sub` and its claims as tags, action
 * `<target>___<tool>`, resource the gateway, `context.input` the arguments) decided by cedar-wasm
 * over the ACTIVE policies of the attached engine; an error is a deny. Allowed calls go to the
 * target's MCP endpoint under the tool's own name. LOG_ONLY records the decision and forwards.
 */
async function gatewayCall(
  state: Stored,
  gatewayId: string,
  authorization: string | undefined,
  body: Json,
  decisions: GatewayDecision[],
): Promise<[number, Json]> {
  const gw = need(state.gateways.get(gatewayId), `gateway ${gatewayId}`);
  const claims = await verifyBearer(gw, authorization);
  const rpc = (result: Json) => [200, { jsonrpc: '2.0', id: body.id ?? null, ...result }] as [number, Json];
  if (body.method !== 'tools/call') return rpc({ error: { code: -32601, message: `method ${String(body.method)} is not modelled` } });
  const params = (body.params ?? {}) as { name?: string; arguments?: Json };
  const name = String(params.name);
  const [targetName, tool] = name.split('___');
  const target = [...(state.targets.get(gatewayId)?.values() ?? [])].find((t) => t.name === targetName);
  if (!target || !tool || !targetTools(target).some((t) => t.name === tool))
    return rpc({ error: { code: -32602, message: `unknown tool ${name}` } });
  const config = gw.policyEngineConfiguration as Json | undefined;
  if (config) {
    const engine = [...state.engines.values()].find((e) => e.policyEngineArn === config.arn)!;
    const active = [...state.policies.get(String(engine.policyEngineId))!.values()].filter((p) => p.status === 'ACTIVE');
    const principal = { type: 'AgentCore::OAuthUser', id: String(claims.sub) };
    const tags = Object.fromEntries(Object.entries(claims).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const answer = cedar.isAuthorized({
      principal,
      action: { type: 'AgentCore::Action', id: name },
      resource: { type: 'AgentCore::Gateway', id: String(gw.gatewayArn) },
      context: { input: (params.arguments ?? {}) as cedar.CedarValueJson },
      policies: {
        staticPolicies: Object.fromEntries(active.map((p) => [String(p.name), ((p.definition as Json).cedar as Json).statement as string])),
      },
      entities: [{ uid: principal, attrs: { id: String(claims.sub) }, parents: [], tags }],
    });
    const decision: GatewayDecision['decision'] =
      answer.type === 'success' && answer.response.decision === 'allow' && answer.response.diagnostics.errors.length === 0
        ? 'Allow'
        : 'Deny';
    const policies = answer.type === 'success' ? answer.response.diagnostics.reason : [];
    decisions.push({ gatewayId, sub: String(claims.sub), action: name, decision, policies });
    if (decision === 'Deny' && config.mode === 'ENFORCE')
      return rpc({ error: { code: -32003, message: `tool call ${name} denied by the gateway's policy engine` } });
  }
  const endpoint = String((((target.targetConfiguration as Json).mcp as Json).mcpServer as Json).endpoint);
  const local = state.upstreams.get(endpoint);
  if (!local) return rpc({ error: { code: -32000, message: `target ${String(target.name)} endpoint ${endpoint} is unreachable` } });
  const upstream = await fetch(local, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ ...body, params: { ...params, name: tool } }),
  });
  return [upstream.status, (await upstream.json()) as Json];
}

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new ApiError(400, 'SerializationException', 'body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: Json, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': randomBytes(8).toString('hex'),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}

export async function startAgentCoreControl(
  opts: { pageSize?: number; upstreams?: Map<string, string> } = {},
): Promise<AgentCoreControlServer> {
  const state: Stored = {
    base: '',
    upstreams: opts.upstreams ?? new Map(),
    engines: new Map(),
    policies: new Map(),
    gateways: new Map(),
    targets: new Map(),
    runtimes: new Map(),
  };
  const requests: RecordedRequest[] = [];
  const decisions: GatewayDecision[] = [];
  const pageSize = opts.pageSize ?? 100;
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const data = /^\/gateway\/([^/]+)\/mcp$/.exec(req.url ?? '');
        if (data) {
          const [status, out] = await gatewayCall(state, data[1]!, req.headers.authorization, await readBody(req), decisions);
          return send(res, status, out);
        }
        const auth = req.headers.authorization ?? '';
        if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/bedrock-agentcore\/aws4_request/.test(auth)) {
          throw new ApiError(403, 'AccessDeniedException', 'request is not SigV4-signed for bedrock-agentcore');
        }
        const url = new URL(req.url ?? '/', 'http://localhost');
        const body = await readBody(req);
        const path = decodeURIComponent(url.pathname);
        requests.push({ method: req.method ?? 'GET', path, body });
        const [status, out] = route(state, req.method ?? 'GET', path, url.searchParams, body, pageSize);
        send(res, status, out);
      } catch (err) {
        if (err instanceof ApiError) send(res, err.status, { message: err.message }, err.type);
        else send(res, 500, { message: String(err) }, 'InternalServerException');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.base = `http://127.0.0.1:${port}`;
  return {
    endpoint: state.base,
    requests,
    decisions,
    state,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
