import { existsSync } from 'node:fs';
import { z } from 'zod';
import { homeConfigFile, InputError, readYaml } from '../common/index.js';
import type { DynamoStoreOptions } from './dynamo-store.js';

/**
 * The `store:` section of the home's config.yaml: where a runner keeps the negotiations'
 * coordination state. `sqlite` (the default) is the embedded store, one process per home;
 * `dynamodb` shares tables (as `charter release terraform` declares them) between runners.
 */
export const StoreConfig = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqlite') }),
  z.strictObject({
    kind: z.literal('dynamodb'),
    /** Table name prefix: `<tables>-negotiations` and `<tables>-idempotency` (Terraform: charter-<env>). */
    tables: z.string().regex(/^[A-Za-z0-9_.-]{3,200}$/, 'a DynamoDB table name prefix'),
    /** Default: AWS_REGION. */
    region: z.string().min(1).optional(),
    /** Default: AWS_ENDPOINT_URL_DYNAMODB, else the region's endpoint. */
    endpoint: z.string().url().optional(),
    /** How long bid and document idempotency records live (their TTL), default 90. */
    idempotencyTtlDays: z.number().positive().optional(),
  }),
]);
export type StoreConfig = z.infer<typeof StoreConfig>;

/** Other sections of the file belong to other parts of Charter. */
const HomeConfig = z.object({ store: StoreConfig.optional() }).passthrough();

/**
 * The home's store setting; CHARTER_STORE (`sqlite` | `dynamodb`) and CHARTER_DYNAMODB_TABLES
 * override it. Undefined: the embedded SQLite store. `tenants` are the tenants the runner serves.
 */
export function homeStoreOptions(home: string, tenants: string[]): Omit<DynamoStoreOptions, 'capacity'> | undefined {
  const file = homeConfigFile(home);
  const fromFile = existsSync(file) ? readYaml(file, HomeConfig).store : undefined;
  const kind = process.env.CHARTER_STORE || fromFile?.kind || 'sqlite';
  if (kind === 'sqlite') return undefined;
  if (kind !== 'dynamodb') throw new InputError(`CHARTER_STORE is '${kind}': give sqlite or dynamodb`, { field: 'CHARTER_STORE' });
  const dynamo = fromFile?.kind === 'dynamodb' ? fromFile : undefined;
  const tables = process.env.CHARTER_DYNAMODB_TABLES || dynamo?.tables;
  if (!tables)
    throw new InputError('the dynamodb store needs its table prefix: store.tables in config.yaml or CHARTER_DYNAMODB_TABLES', {
      file,
      field: 'store.tables',
    });
  return {
    tables,
    tenants,
    ...(dynamo?.region ? { region: dynamo.region } : {}),
    ...(dynamo?.endpoint ? { endpoint: dynamo.endpoint } : {}),
    ...(dynamo?.idempotencyTtlDays ? { idempotencyTtlSeconds: Math.round(dynamo.idempotencyTtlDays * 86400) } : {}),
  };
}
