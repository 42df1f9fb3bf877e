import { InputError } from '../common/index.js';
import type { LoadedPack } from './load.js';
import type { ToolDefinition } from './pack-file.js';
import type { Workspace } from './workspace.js';

/** What `charter packs new` writes: paths relative to the new pack's folder, and their text. */
export interface ScaffoldedPack {
  /** The pack's folder relative to the packs folder: `intent/<agent>`. */
  folder: string;
  files: Array<{ path: string; text: string }>;
}

export interface ScaffoldOptions {
  agent: string;
  /** The domain pack to extend (default: the only one the workspace has). */
  domain?: string;
  /** Tools to grant (default: the first read tool of the domain's catalog). */
  tools?: string[];
  owner?: string;
  /** How a scaffolded YAML file (path within the pack) names its JSON Schema file (the yaml-language-server modeline). */
  schemaRef: (from: string, schemaFile: string) => string;
}

const AGENT_NAME = /^[a-z0-9][a-z0-9-]*$/;
const TESTS_FILE = 'tests/first.yaml';

function domainPack(ws: Workspace, name: string | undefined): LoadedPack {
  const domains = ws.catalog.latest().filter((p) => p.meta.layer === 'domain');
  if (name) {
    const found = domains.find((p) => p.meta.name === name);
    if (!found)
      throw new InputError(`no domain pack '${name}' (domain packs: ${domains.map((p) => p.meta.name).join(', ')})`, { field: '--domain' });
    return found;
  }
  if (domains.length !== 1)
    throw new InputError(`choose the domain pack to extend with --domain (${domains.map((p) => p.meta.name).join(', ') || 'none found'})`, {
      field: '--domain',
    });
  return domains[0]!;
}

function chooseTools(domain: LoadedPack, names: string[] | undefined): ToolDefinition[] {
  const catalog = domain.tools?.tools ?? [];
  if (!names || names.length === 0) {
    const first = catalog.find((t) => t.tier === 'read');
    if (!first) throw new InputError(`domain pack ${domain.key} has no read tool: name the tools with --tool`, { field: '--tool' });
    return [first];
  }
  return names.map((n) => {
    const tool = catalog.find((t) => t.name === n);
    if (!tool)
      throw new InputError(`tool '${n}' is not in the ${domain.meta.name} catalog (${catalog.map((t) => t.name).join(', ')})`, {
        field: '--tool',
      });
    return tool;
  });
}

/** `^major.minor.0` of a pack: extends what exists today and its compatible successors. */
const caret = (p: LoadedPack) => `^${p.meta.version}`;

/**
 * The first test of a tool: the agent reads (or writes) an entity of its own tenant, and the same
 * call on another tenant's entity is denied by base's tenant isolation. The entities come from the
 * domain's fixtures, so the tests pass against the shipped packs as written.
 */
function firstTests(ws: Workspace, domain: LoadedPack, agent: string, tool: ToolDefinition): string[] {
  const { fixtures } = ws.setFor(domain);
  const tenants = [...fixtures.limits.keys()].sort();
  const idArg = 'idArg' in tool.resource ? tool.resource.idArg : undefined;
  const owned = tenants.flatMap((tenant) => {
    const uid = 'type' in tool.resource ? fixtures.ownedBy(tool.resource.type, tenant) : { id: tenant };
    return uid ? [{ tenant, id: uid.id }] : [];
  });
  const [mine, theirs] = owned;
  if (!mine)
    throw new InputError(`the ${domain.meta.name} fixtures have no entity for ${tool.name}: name another tool with --tool`, {
      field: '--tool',
    });
  const args = (id: string) => (idArg ? `{ ${idArg}: ${id} }` : '{}');
  const tests = [
    `  - name: ${tool.name} on its own tenant\n    agent: ${agent}\n    tenant: ${mine.tenant}\n    tool: ${tool.name}\n    args: ${args(mine.id)}\n    expect: allow\n    determining: [${agent}.allow.${tool.name}]`,
  ];
  if (theirs && idArg)
    tests.push(
      `  - name: ${tool.name} on another tenant's entity\n    agent: ${agent}\n    tenant: ${mine.tenant}\n    tool: ${tool.name}\n    args: ${args(theirs.id)}\n    expect: deny\n    determining: [base.tenant-isolation]`,
    );
  return tests;
}

/** The files of a new intent pack for `agent`, extending base and one domain pack of `ws`. */
export function scaffoldIntentPack(ws: Workspace, opts: ScaffoldOptions): ScaffoldedPack {
  const { agent } = opts;
  if (!AGENT_NAME.test(agent))
    throw new InputError(`agent names are lower-case letters, digits and -, got '${agent}'`, { field: '--agent' });
  if (ws.catalog.versions(agent).length > 0 || ws.catalog.agentPack(agent))
    throw new InputError(`a pack or agent named '${agent}' already exists: choose another name`, { field: '--agent' });
  const base = ws.catalog.versions('base')[0];
  if (!base) throw new InputError('no base pack to extend', { field: '--packs' });
  const domain = domainPack(ws, opts.domain);
  const tools = chooseTools(domain, opts.tools);
  const [testsFirst] = tools;
  const packYaml = [
    `# yaml-language-server: $schema=${opts.schemaRef('pack.yaml', 'pack.schema.json')}`,
    `name: ${agent}`,
    'layer: intent',
    'version: 0.1.0',
    `owner: ${opts.owner ?? 'you@example.com'}`,
    `description: What ${agent} is for (one sentence a reviewer can hold the policies against).`,
    'extends:',
    `  base: "${caret(base)}"`,
    `  ${domain.meta.name}: "${caret(domain)}"`,
    'agent:',
    `  name: ${agent}`,
    `  description: What ${agent} does, and what it must never do.`,
    '  dagNode: unassigned',
    '  modelTier: DefaultLLM',
    '  tools:',
    ...tools.map((t) => `    - { name: ${t.name}, tier: ${t.tier} }`),
    '  evalThresholds: []',
    '',
  ].join('\n');
  const permits = [
    `// ${agent}: exactly the tools its pack.yaml declares, one permit each. Base and ${domain.meta.name}`,
    '// forbids still apply (tenant isolation, approvals, guards): forbid wins over permit.',
    ...tools.flatMap((t) => [
      '',
      `@id("${agent}.allow.${t.name}")  // ${t.tier}`,
      `permit (principal == Charter::Agent::"${agent}", action == ${actionOf(ws, t.name)}, resource);`,
    ]),
    '',
  ].join('\n');
  const testsYaml = [
    `# yaml-language-server: $schema=${opts.schemaRef(TESTS_FILE, 'tests.schema.json')}`,
    `# ${agent}: what it may do and what it may not. Run: charter packs test --packs <this packs folder> --filter ${agent}`,
    'tests:',
    ...firstTests(ws, domain, agent, testsFirst!),
    '',
  ].join('\n');
  const fixturesYaml = [
    `# yaml-language-server: $schema=${opts.schemaRef('tests/fixtures.yaml', 'fixtures.schema.json')}`,
    `# The agent's entity: base's kill switch reads its suspended attribute.`,
    'entities:',
    `  - { uid: 'Charter::Agent::"${agent}"', attrs: { suspended: false } }`,
    '',
  ].join('\n');
  return {
    folder: `intent/${agent}`,
    files: [
      { path: 'pack.yaml', text: packYaml },
      { path: 'policies/permits.cedar', text: permits },
      { path: TESTS_FILE, text: testsYaml },
      { path: 'tests/fixtures.yaml', text: fixturesYaml },
    ],
  };
}

/** The Cedar action of a catalog tool, as the composed domain set names it. */
function actionOf(ws: Workspace, tool: string): string {
  const known = ws.knownTools().get(tool);
  if (!known) throw new InputError(`unknown tool '${tool}'`, { field: '--tool' });
  return known.action;
}
