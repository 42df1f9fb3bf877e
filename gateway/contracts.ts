import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { InputError } from '../common/index.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object on some
// TypeScript versions and the plugin on others.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (ajv: Ajv2020) => Ajv2020;

export interface ContractCheck {
  ok: boolean;
  /** One line per violation, naming the argument path: `args.amountCents: must be integer`. */
  errors: string[];
}

/**
 * The argument contracts (JSON Schema 2020-12) of the tools in a manifest, compiled once when
 * the gateway starts so a call costs one generated validator run.
 */
export class ToolContracts {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(tools: ReadonlyArray<{ name: string; args: unknown }>, source: string) {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    for (const tool of tools) {
      try {
        this.validators.set(tool.name, ajv.compile(tool.args as object));
      } catch (err) {
        throw new InputError(`argument contract does not compile: ${(err as Error).message}`, {
          file: source,
          field: `tools.${tool.name}.args`,
        });
      }
    }
  }

  /** Whether the contract declares a top-level `tenant_id` argument (then the gateway injects it). */
  static takesTenant(schema: unknown): boolean {
    const props = (schema as { properties?: Record<string, unknown> } | null)?.properties;
    return props !== undefined && Object.hasOwn(props, 'tenant_id');
  }

  check(tool: string, args: unknown): ContractCheck {
    const validate = this.validators.get(tool);
    if (!validate) return { ok: false, errors: [`no argument contract for tool '${tool}'`] };
    if (validate(args)) return { ok: true, errors: [] };
    return {
      ok: false,
      errors: (validate.errors ?? []).map((e) => {
        const where = e.instancePath ? `args${e.instancePath.replaceAll('/', '.')}` : 'args';
        const extra = e.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : '';
        return `${where}: ${e.message ?? e.keyword}${extra}`;
      }),
    };
  }
}
