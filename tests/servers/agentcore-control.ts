import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * A local server speaking the Bedrock AgentCore control plane's REST-JSON protocol (the routes,
 * status codes, `x-amzn-errortype` errors and RFC 3339 timestamps the AWS SDK expects) for
 * policy engines, policies, gateways and agent runtimes, so deploy code runs through the real
 * `@aws-sdk/client-bedrock-agentcore-control` client. State is in memory.
 *
 * Like the service, it requires a SigV4-signed request for the `bedrock-agentcore` service,
 * rejects bad Cedar syntax synchronously (ValidationException), and reports a policy whose
 * entities are outside the `AgentCore::` namespace as CREATE_FAILED / UPDATE_FAILED with
 * status reasons when the validation mode is FAIL_ON_ANY_FINDINGS.
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

/** Entity types a policy names in its scope and conditions, read from Cedar's JSON form. */
function entityTypes(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => entityTypes(v, out));
  else if (value && typeof value === 'object') {
    const o = value as Json;
    if (typeof o.type === 'string' && typeof o.id === 'string') out.add(o.type);
    if (typeof o.entity_type === 'string') out.add(o.entity_type);
    Object.values(o).forEach((v) => entityTypes(v, out));
  }
  return out;
}

/** Synchronous syntax check, then the asynchronous validation the service reports through status. */
function validatePolicy(body: Json): { status: 'ok' } | { status: 'findings'; reasons: string[] } {
  const statement = ((body.definition as Json | undefined)?.cedar as Json | undefined)?.statement;
  if (typeof statement !== 'string') throw new ApiError(400, 'ValidationException', 'definition.cedar.statement is required');
  const parsed = cedar.policyToJson(statement);
  if (parsed.type === 'failure')
    throw new ApiError(400, 'ValidationException', `invalid Cedar: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const foreign = [...entityTypes(parsed.json)].filter((t) => !t.startsWith('AgentCore::'));
  if (foreign.length && body.validationMode !== 'IGNORE_ALL_FINDINGS') {
    return { status: 'findings', reasons: foreign.map((t) => `entity type ${t} is not in the gateway's schema (AgentCore namespace)`) };
  }
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
      const v = validatePolicy(body);
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
        const v = validatePolicy({ ...body, definition: body.definition });
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
      gatewayUrl: `https://${id}.gateway.bedrock-agentcore.${REGION}.amazonaws.com/mcp`,
      status: 'READY',
      statusReasons: [],
      createdAt: now(),
      updatedAt: now(),
    };
    attachEngine(state, body);
    state.gateways.set(id, gw);
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
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
    };
    state.runtimes.set(id, rt);
    return [202, rt];
  }
  if ((m = /^\/runtimes\/([^/]+)\/$/.exec(path))) {
    const rt = need(state.runtimes.get(m[1]!), `agent runtime ${m[1]}`);
    if (method === 'GET') return [200, rt];
    if (method === 'PUT') {
      requireFields(body, ['agentRuntimeArtifact', 'roleArn']);
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

/** A gateway may only point at a policy engine that exists. */
function attachEngine(state: Stored, body: Json): void {
  const config = body.policyEngineConfiguration as Json | undefined;
  if (!config) return;
  if (![...state.engines.values()].some((e) => e.policyEngineArn === config.arn))
    throw new ApiError(400, 'ValidationException', `policy engine ${String(config.arn)} does not exist`);
  if (config.mode !== 'ENFORCE' && config.mode !== 'LOG_ONLY')
    throw new ApiError(400, 'ValidationException', `mode must be ENFORCE or LOG_ONLY`);
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

export async function startAgentCoreControl(opts: { pageSize?: number } = {}): Promise<AgentCoreControlServer> {
  const state: Stored = { engines: new Map(), policies: new Map(), gateways: new Map(), runtimes: new Map() };
  const requests: RecordedRequest[] = [];
  const pageSize = opts.pageSize ?? 100;
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    state,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
