import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from './input.js';

/**
 * `<home>/config.yaml`, written by `charter init`: settings of the home itself. Today the
 * egress allow-list: endpoints besides loopback and those the command line, the judge and model
 * configurations and the AWS / OpenTelemetry environment already name.
 */
export interface HomeConfig {
  egress: { allow: string[] };
}

export function homeConfigFile(home: string): string {
  return join(home, 'config.yaml');
}

/**
 * The home's config.yaml, or the defaults when the home has none (yet). Every command reads it
 * at start, so zod is imported only when there is a file to check (top-level help stays fast).
 */
export async function readHomeConfig(home: string): Promise<HomeConfig> {
  const file = homeConfigFile(home);
  if (!existsSync(file)) return { egress: { allow: [] } };
  return readYaml(file, homeConfigSchema((await import('zod')).z));
}

/** The schema of config.yaml, built from the zod module the caller has loaded (`charter schemas` publishes it). */
export function homeConfigSchema(z: typeof import('zod').z) {
  return z.strictObject({
    egress: z.strictObject({ allow: z.array(z.string().min(1)).default([]) }).default({ allow: [] }),
    // where the audit trail goes: checked by audit/home.ts, which owns that section
    audit: z.unknown().optional(),
    // where the negotiations' coordination state lives: checked by orchestrator/store-config.ts
    store: z.unknown().optional(),
  });
}

export const DEFAULT_HOME_CONFIG = `# Charter home configuration (see the README, "Egress allow-list").
egress:
  # Endpoints Charter may connect to besides loopback and the ones named by flags, judge and
  # model configurations, AWS_ENDPOINT_URL*, AWS_REGION and OTEL_EXPORTER_OTLP_*ENDPOINT.
  # Entries: a URL, host:port, host (any port) or *.domain.
  allow: []
`;
