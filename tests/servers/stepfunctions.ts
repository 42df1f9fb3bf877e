import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type JsonValue = Parameters<StateMachine['run']>[0];

/**
 * A local Step Functions endpoint: the AWS JSON 1.0 protocol (`X-Amz-Target:
 * AWSStepFunctions.<Op>`, `__type` errors) for StartExecution, DescribeExecution,
 * SendTaskSuccess and SendTaskFailure, so callers use the real `@aws-sdk/client-sfn`. Executions
 * run on `aws-local-stepfunctions`, an ASL interpreter, with every Task state's Lambda replaced
 * by `lambda(functionName, payload)` (as `lambda:invoke` answers: `{ Payload }`). A
 * `.waitForTaskToken` state calls its Lambda, then waits until SendTaskSuccess/Failure names its
 * token or its timeout ends it (States.Timeout). `$$.Task.Token` is new for each evaluation.
 *
 * Checks what the service checks on these calls: a SigV4 Authorization header for `states`, the
 * token's length (1..2048), output valid JSON of at most 256 KiB, error at most 256 and cause at
 * most 32,768 characters; an unknown token is TaskDoesNotExist, the token of a task that already
 * ended (completed or timed out) TaskTimedOut.
 *
 * One difference from the service is bridged: AWS reads a Task's TimeoutSecondsPath from the
 * state input, the interpreter from the effective input (after Parameters). Where Parameters
 * carries the whole state input under some key (`'negotiation.$': '$'`), the path is rewritten
 * to read it there; a definition that does not is refused rather than run with another timeout.
 */

type Json = Record<string, unknown>;
export type LocalLambda = (functionName: string, payload: unknown) => Promise<unknown>;

interface Execution {
  arn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

export interface StepFunctionsServer {
  endpoint: string;
  stateMachineArn: string;
  /** Tokens of tasks waiting now (tests read them to check what the callers found). */
  waiting(): string[];
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

class TaskFailed extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** Where Parameters puts the whole state input (a `key.$: '$'` entry), as a JSONPath into the effective input. */
function stateInputPath(parameters: unknown, at = '$'): string | undefined {
  if (!parameters || typeof parameters !== 'object') return undefined;
  for (const [key, value] of Object.entries(parameters)) {
    if (key.endsWith('.$') && value === '$') return `${at}.${key.slice(0, -2)}`;
    const inner = stateInputPath(value, `${at}.${key}`);
    if (inner) return inner;
  }
  return undefined;
}

type TaskDefinition = { Type: string; Resource?: string; Parameters?: unknown; TimeoutSeconds?: number; TimeoutSecondsPath?: string };

function asInterpreted(definition: { States: Record<string, TaskDefinition> }): StateMachineDefinition {
  const States = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      if (!state.TimeoutSecondsPath) return [name, state];
      const base = stateInputPath(state.Parameters);
      if (!base) throw new Error(`state ${name}: TimeoutSecondsPath needs Parameters carrying the state input ('key.$': '$') here`);
      return [name, { ...state, TimeoutSecondsPath: base + state.TimeoutSecondsPath.slice(1) }];
    }),
  );
  return { ...definition, States } as unknown as StateMachineDefinition;
}

export async function startStepFunctionsServer(definition: object, lambda: LocalLambda): Promise<StepFunctionsServer> {
  const machineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:charter-negotiation`;
  const states = (definition as { States: Record<string, TaskDefinition> }).States;
  const interpretedDefinition = asInterpreted({ ...(definition as object), States: states });
  const machine = new StateMachine(interpretedDefinition, { validationOptions: { checkPaths: true, checkArn: true } });
  const interpreted = (interpretedDefinition as unknown as { States: Record<string, TaskDefinition> }).States;
  const executions = new Map<string, Execution>();
  const tasks = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const ended = new Set<string>();

  const waitForToken = (token: string) =>
    new Promise<unknown>((resolve, reject) => {
      tasks.set(token, { resolve, reject });
    });
  /** The wait's timeout as the interpreter applies it: when it ends the task, the token is spent too. */
  const timeoutMs = (name: string, input: JsonValue) => {
    const state = interpreted[name]!;
    const path = state.TimeoutSecondsPath?.slice(2).split('.') ?? [];
    const fromPath = path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], input);
    return 1000 * (state.TimeoutSeconds ?? (typeof fromPath === 'number' ? fromPath : 60));
  };
  const handlers = Object.fromEntries(
    Object.entries(states)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name, s]) => [
        name,
        async (json: JsonValue): Promise<JsonValue> => {
          const input = json as { FunctionName: string; Payload: unknown };
          if (!s.Resource?.endsWith('.waitForTaskToken'))
            return { Payload: (await lambda(input.FunctionName, input.Payload)) as JsonValue };
          const token = (input.Payload as { taskToken: string }).taskToken;
          const wait = waitForToken(token);
          // Its Lambda may complete the task itself (a request decided before the token was kept).
          wait.catch(() => undefined);
          const timer = setTimeout(() => (tasks.delete(token), ended.add(token)), timeoutMs(name, json));
          try {
            await lambda(input.FunctionName, input.Payload);
            return (await wait) as JsonValue;
          } finally {
            clearTimeout(timer);
            // Completed, failed or timed out (the interpreter stops waiting): the token is spent.
            tasks.delete(token);
            ended.add(token);
          }
        },
      ]),
  );
  const context = {
    Task: {
      get Token() {
        return randomBytes(48).toString('base64url');
      },
    },
  };

  function start(body: Json): Json {
    if (body.stateMachineArn !== machineArn)
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
    const name = typeof body.name === 'string' ? body.name : randomBytes(16).toString('hex');
    const input = typeof body.input === 'string' ? body.input : '{}';
    const arn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:charter-negotiation:${name}`;
    const prior = executions.get(arn);
    if (prior) {
      if (prior.input !== input) throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
      return { executionArn: arn, startDate: prior.startDate / 1000 };
    }
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(input) as JsonValue;
    } catch {
      throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const exec: Execution = { arn, name, input, status: 'RUNNING', startDate: Date.now() };
    executions.set(arn, exec);
    machine
      .run(parsed, { overrides: { taskResourceLocalHandlers: handlers }, context })
      .result.then(
        (output) => Object.assign(exec, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
        (err: Error & { cause?: unknown }) => {
          const timedOut = err.name === 'ExecutionTimeoutError';
          const inner = err.cause instanceof Error ? err.cause : undefined;
          Object.assign(exec, {
            status: timedOut ? 'TIMED_OUT' : 'FAILED',
            error: timedOut ? 'States.Timeout' : (inner?.name ?? err.name),
            cause: inner?.message ?? err.message,
          });
        },
      )
      .finally(() => (exec.stopDate = Date.now()));
    return { executionArn: arn, startDate: exec.startDate / 1000 };
  }

  function describe(body: Json): Json {
    const exec = executions.get(String(body.executionArn));
    if (!exec) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
    return {
      executionArn: exec.arn,
      stateMachineArn: machineArn,
      name: exec.name,
      status: exec.status,
      startDate: exec.startDate / 1000,
      input: exec.input,
      ...(exec.stopDate ? { stopDate: exec.stopDate / 1000 } : {}),
      ...(exec.output !== undefined ? { output: exec.output } : {}),
      ...(exec.error ? { error: exec.error, cause: exec.cause } : {}),
    };
  }

  function task(body: Json): { resolve: (v: unknown) => void; reject: (e: Error) => void } {
    const token = body.taskToken;
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048)
      throw new ApiError(
        'ValidationException',
        "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: length 1-2048",
      );
    const waiting = tasks.get(token);
    if (waiting) return waiting;
    if (ended.has(token)) throw new ApiError('TaskTimedOut', 'Task Timed Out: the task of this token has already ended');
    throw new ApiError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  function success(body: Json): Json {
    const output = body.output;
    if (typeof output !== 'string' || output.length > 262_144)
      throw new ApiError('ValidationException', "Value at 'output' failed to satisfy constraint: a string of at most 262144 characters");
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch {
      throw new ApiError('InvalidOutput', 'Invalid Output: not JSON');
    }
    task(body).resolve(value);
    return {};
  }

  function failure(body: Json): Json {
    const error = typeof body.error === 'string' ? body.error : '';
    const cause = typeof body.cause === 'string' ? body.cause : '';
    if (error.length > 256)
      throw new ApiError('ValidationException', "Value at 'error' failed to satisfy constraint: at most 256 characters");
    if (cause.length > 32_768)
      throw new ApiError('ValidationException', "Value at 'cause' failed to satisfy constraint: at most 32768 characters");
    task(body).reject(new TaskFailed(error, cause));
    return {};
  }

  const ops: Record<string, (body: Json) => Json> = {
    StartExecution: start,
    DescribeExecution: describe,
    SendTaskSuccess: success,
    SendTaskFailure: failure,
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: Json) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      try {
        const auth = req.headers.authorization ?? '';
        if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/states\/aws4_request/.test(auth))
          throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token (SigV4 for service states)');
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = ops[target.replace(/^AWSStepFunctions\./, '')];
        if (!target.startsWith('AWSStepFunctions.') || !op)
          throw new ApiError('UnknownOperationException', `unknown operation '${target}'`);
        reply(200, op(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json));
      } catch (err) {
        if (err instanceof ApiError) reply(400, { __type: err.type, message: err.message });
        else reply(500, { __type: 'InternalFailure', message: String(err) });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stateMachineArn: machineArn,
    waiting: () => [...tasks.keys()],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
