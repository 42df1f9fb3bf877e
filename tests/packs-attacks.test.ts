import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { contentPath, packageRoot } from '../common/index.js';
import type { DecisionMeta } from '../gateway/index.js';
import { Manifest, MANIFEST_PAYLOAD_TYPE, PACK_FILE_LIMITS } from '../policy-packs/index.js';
import { cedarFindings } from '../release-gates/index.js';
import { canonicalJson, digestOf, LocalKeySigner, loadPrivateKey, parseEnvelope, signEnvelope } from '../signing/index.js';
import { GOOD_PACKS, packsWith } from '../policy-packs/fixtures/sandbox.js';
import { openGatewayHarness, serveOverHttp } from './gateway-harness.js';

// Attacks on the seams between packs, compiler, signed manifest, release gate and gateway
// (issue 12, items 1-3 and 9; issue 15's line numbers), each through the interface it came in:
// the built CLI in a temporary CHARTER_HOME, the release gate's tests check, the gateway over
// MCP HTTP. The count per class is printed at the end and cited in the README.
const CLI = join(packageRoot, 'dist', 'cli', 'main.js');
const SHIPPED = contentPath('policy-packs', 'packs');
let home: string;
const tried = new Map<string, number>();
const refused = new Map<string, number>();

/** An attack counts as refused only when every assertion that it was refused holds. */
function attack(cls: string, name: string, fn: () => Promise<void> | void): void {
  test(name, async () => {
    tried.set(cls, (tried.get(cls) ?? 0) + 1);
    await fn();
    refused.set(cls, (refused.get(cls) ?? 0) + 1);
  });
}

function charter(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHARTER_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the CLI expecting a refusal: exit code, message, and (for compile) no manifest written. */
function refusedBy(code: number, message: RegExp, ...args: string[]) {
  const r = charter(...args);
  expect(r.err + r.out).toMatch(message);
  expect(r.code).toBe(code);
  return r;
}

function compileRefused(packs: string, agent: string, code: number, message: RegExp, ...extra: string[]) {
  const out = join(home, 'out', `${agent}-${Math.random().toString(16).slice(2)}.json`);
  refusedBy(code, message, 'packs', 'compile', '--agent', agent, '--no-shipped', '--packs', packs, '--out', out, ...extra);
  expect(existsSync(out)).toBe(false);
}

/** A temporary packs folder: a copy of `from` with files written (path -> text). */
function packsFrom(from: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'charter-attack-packs-'));
  cpSync(from, dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const trustedKeys = () => join(home, 'keys', 'trusted-keys.json');

beforeAll(() => {
  expect(existsSync(CLI), 'run `npm run build` first: the CLI is tested as built').toBe(true);
  home = mkdtempSync(join(tmpdir(), 'charter-attack-home-'));
  expect(charter('keys', 'generate', '--name', 'manifest-signer').code).toBe(0);
  expect(charter('keys', 'generate', '--name', 'approver', '--purpose', 'approval').code).toBe(0);
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  const classes = [...tried.keys()].map((c) => `${c}: ${refused.get(c) ?? 0}/${tried.get(c)}`);
  console.log(`pack and compiler attacks refused per class: ${classes.join('; ')}`);
});

describe('a re-signed manifest whose content is not what the packs compile to', { timeout: 300_000 }, () => {
  const CLS = 're-signed manifest';
  let file: string;
  let manifest: Manifest;

  beforeAll(() => {
    file = join(home, 'reader.manifest.json');
    expect(charter('packs', 'compile', '--agent', 'reader', '--no-shipped', '--packs', GOOD_PACKS, '--out', file).code).toBe(0);
    manifest = Manifest.parse(JSON.parse(Buffer.from(parseEnvelope(readFileSync(file, 'utf8'), file).payload, 'base64').toString('utf8')));
  });

  /** The attacker holds the manifest key: every digest inside is recomputed and the payload re-signed. */
  async function resigned(edit: (m: Manifest) => void): Promise<{ file: string; manifest: Manifest }> {
    const m = structuredClone(manifest);
    edit(m);
    for (const p of Object.values(m.policies)) p.sha256 = digestOf(p.text);
    m.schema.sha256 = digestOf(m.schema.text);
    const signer = new LocalKeySigner(loadPrivateKey(join(home, 'keys', 'manifest-signer.key.pem')));
    const envelope = await signEnvelope(MANIFEST_PAYLOAD_TYPE, Buffer.from(canonicalJson(m)), [signer]);
    const out = join(home, `resigned-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(out, JSON.stringify(envelope));
    return { file: out, manifest: m };
  }

  /** The tests gate of `charter release check` on a candidate tested against its packs folder. */
  function testsGate(candidate: string) {
    const r = charter('release', 'check', '--env', 'dev', '--manifest', candidate, '--no-shipped', '--packs', GOOD_PACKS, '--json');
    const doc = JSON.parse(r.out) as { gates: Array<{ gate: string; status: string; reasons: string[] }> };
    return doc.gates.find((g) => g.gate === 'tests')!;
  }

  test('the honest manifest verifies against its packs and passes the tests gate (the baseline the attacks differ from)', () => {
    expect(charter('manifest', 'verify', file, '--trusted-keys', trustedKeys(), '--no-shipped', '--packs', GOOD_PACKS).code).toBe(0);
    expect(testsGate(file).status).toBe('pass');
  });

  const cases: Array<[string, (m: Manifest) => void, RegExp]> = [
    [
      'tenant isolation turned off in the policy text',
      (m) =>
        (m.policies['base.tenant-isolation']!.text = m.policies['base.tenant-isolation']!.text.replace(
          /unless \{[^}]*\}/,
          'unless { true }',
        )),
      /policy base\.tenant-isolation differs \(text\)/,
    ],
    [
      'an extra permit',
      (m) =>
        (m.policies['reader.extra'] = {
          ...m.policies['reader.read-items']!,
          text: '@id("reader.extra")\npermit (principal, action, resource);',
        }),
      /policy reader\.extra is in the manifest but not in the packs/,
    ],
    [
      'a policy dropped',
      (m) => delete m.policies['base.tenant-isolation'],
      /policy base\.tenant-isolation is in the packs but not in the manifest/,
    ],
    ['a tool given another tier', (m) => (m.tools[0]!.tier = 'write-high'), /tool get_item differs/],
    [
      'the schema edited',
      (m) => (m.schema.text = m.schema.text.replace('priceCents: Long', 'priceCents: Long, free: Bool')),
      /the schema differs/,
    ],
    ['an eval threshold lowered', (m) => (m.agent.evalThresholds[0]!.min = 0), /agent differs/],
  ];
  for (const [i, [name, edit, message]] of cases.entries()) {
    attack(CLS, `${name}: manifest verify --packs refuses it${i === 0 ? ', and so does the release tests gate' : ''}`, async () => {
      const r = await resigned(edit);
      // Signature and every internal digest hold: only the recompile can tell.
      expect(charter('manifest', 'verify', r.file, '--trusted-keys', trustedKeys()).code).toBe(0);
      refusedBy(1, message, 'manifest', 'verify', r.file, '--trusted-keys', trustedKeys(), '--no-shipped', '--packs', GOOD_PACKS);
      // The gate runs the same check (one case: each release check is a slow process here).
      if (i === 0) {
        const gate = testsGate(r.file);
        expect(gate.status).toBe('fail');
        expect(gate.reasons.join('\n')).toMatch(message);
      }
    });
  }
});

// A domain pack `procurement-lite` (namespace Lite) re-declares two shipped tools as read.
const liteSchema = (tier: string) => `namespace Lite {
  entity Negotiation in [Charter::Tenant];
  entity Supplier in [Charter::Tenant];
  type Context = {
    tenant: Charter::Tenant,
    approval: Charter::Approval,
    input: { negotiationId?: String, supplierId?: String, reason?: String },
    limits: {},
  };
  action cancel_negotiation in [Charter::Action::"${tier}"] appliesTo { principal: Charter::Agent, resource: Negotiation, context: Context };
  action terminate_supplier_contract in [Charter::Action::"${tier}"] appliesTo { principal: Charter::Agent, resource: Supplier, context: Context };
}
`;
const liteTool = (name: string, type: string, idArg: string) => `  - name: ${name}
    tier: read
    description: ${name} (re-declared)
    resource: { type: Lite::${type}, idArg: ${idArg} }
    args: { type: object, properties: { tenant_id: { type: string }, ${idArg}: { type: string }, reason: { type: string } } }
`;
const LITE = {
  'domain/procurement-lite/pack.yaml':
    'name: procurement-lite\nlayer: domain\nversion: 1.0.0\nowner: lite@example.com\ndescription: Lite.\nextends:\n  base: ^1.0.0\n',
  'domain/procurement-lite/schema.cedarschema': liteSchema('tier:read'),
  'domain/procurement-lite/tools.yaml': `tools:\n${liteTool('cancel_negotiation', 'Negotiation', 'negotiationId')}${liteTool('terminate_supplier_contract', 'Supplier', 'supplierId')}`,
  'intent/lite-agent/pack.yaml': `name: lite-agent
layer: intent
version: 1.0.0
owner: lite@example.com
description: Uses the lite catalog.
extends:
  base: ^1.0.0
  procurement-lite: ^1.0.0
agent:
  name: lite-agent
  description: Cancels and terminates.
  dagNode: attention
  modelTier: SimpleLLM
  tools:
    - { name: cancel_negotiation, tier: read }
    - { name: terminate_supplier_contract, tier: read }
`,
  'intent/lite-agent/policies/permits.cedar': `@id("lite-agent.allow.cancel_negotiation")
permit (principal == Charter::Agent::"lite-agent", action == Lite::Action::"cancel_negotiation", resource);
@id("lite-agent.allow.terminate_supplier_contract")
permit (principal == Charter::Agent::"lite-agent", action == Lite::Action::"terminate_supplier_contract", resource);
`,
};

describe('a second domain pack re-declaring shipped tools', { timeout: 300_000 }, () => {
  const CLS = 'tool re-declaration';

  attack(CLS, 'beside the shipped packs: validate and compile refuse it naming both packs', () => {
    const packs = packsFrom(SHIPPED, LITE);
    const both =
      /tool cancel_negotiation is declared by domain packs procurement \(domain\/procurement\/tools\.yaml\) and procurement-lite: every tool has one owner/;
    refusedBy(1, both, 'packs', 'validate', '--no-shipped', '--packs', packs);
    compileRefused(packs, 'lite-agent', 1, both);
  });

  attack(CLS, 'an intent pack lowering a shipped tier is refused naming the owner', () => {
    const packs = packsFrom(SHIPPED, {});
    const file = join(packs, 'intent/compliance-review/pack.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('{ name: cancel_negotiation, tier: write-high }', '{ name: cancel_negotiation, tier: read }'),
    );
    compileRefused(
      packs,
      'compliance-review',
      1,
      /tool cancel_negotiation declared with tier read, below tier write-high set by its owner, pack procurement/,
    );
  });

  attack(CLS, 'in a packs folder of its own it compiles, but the gateway over MCP HTTP reaches no upstream with it', async () => {
    // base (the gateway fixture's) + Lite + the intent: no procurement pack to clash with.
    const packs = mkdtempSync(join(tmpdir(), 'charter-lite-'));
    cpSync(contentPath('gateway', 'fixtures', 'packs', 'base'), join(packs, 'base'), { recursive: true });
    const dir = packsFrom(packs, LITE);
    const entities = join(dir, 'entities.yaml');
    writeFileSync(
      entities,
      [
        'entities:',
        `  - { uid: 'Charter::Tenant::"acme"', attrs: { suspended: false } }`,
        `  - { uid: 'Charter::Agent::"lite-agent"', attrs: { suspended: false } }`,
        `  - { uid: 'Lite::Negotiation::"acme-n1"', parents: ['Charter::Tenant::"acme"'] }`,
        `  - { uid: 'Lite::Supplier::"acme-s1"', parents: ['Charter::Tenant::"acme"'] }`,
        'tenants:',
        '  acme: { limits: {} }',
        '',
      ].join('\n'),
    );
    const h = await openGatewayHarness({ packsDir: dir, agent: 'lite-agent', entitiesFile: entities });
    // The operator binds the real tools: the procurement domain's actions.
    const { idp, upstream, gateway, close } = await serveOverHttp(h, 'Procurement', ['cancel_negotiation', 'terminate_supplier_contract']);
    try {
      const client = new Client({ name: 'lite-agent', version: '1.0.0' });
      const token = await idp.issue({ sub: 'svc-lite', tenantId: 'acme', agentId: 'lite-agent' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      for (const [name, args] of [
        ['cancel_negotiation', { negotiationId: 'acme-n1' }],
        ['terminate_supplier_contract', { supplierId: 'acme-s1', reason: 'x' }],
      ] as const) {
        const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
        expect((r._meta?.['charter/decision'] as DecisionMeta).decision).toBe('allow');
        expect(r.isError).toBe(true);
        expect((r.content[0] as { text: string }).text).toMatch(
          new RegExp(`no upstream tool server is bound to action Lite::Action::"${name}"`),
        );
      }
      expect(upstream.received).toEqual([]);
      await client.close();
    } finally {
      await close();
      await h.close();
    }
  });
});

describe('authoring rules the compiler enforces', { timeout: 300_000 }, () => {
  const CLS = 'authoring rules';
  const reader = (extra: string) => packsWith({ 'intent/reader/policies/read.cedar': (t) => t + extra });

  attack(CLS, 'a permit by tier group', () =>
    compileRefused(
      reader(
        '\n@id("reader.all-reads")\npermit (principal == Charter::Agent::"reader", action in Charter::Action::"tier:read", resource);\n',
      ),
      'reader',
      1,
      /permit reader\.all-reads of intent pack reader grants by action group Charter::Action::"tier:read"/,
    ),
  );
  attack(CLS, 'a permit by tier group behind an annotation the plain reading cannot skip', () =>
    compileRefused(
      reader(
        '\n@advice("a \\"quoted\\" note")\n@id("reader.sneaky")\npermit (principal == Charter::Agent::"reader", action in [Charter::Action::"tier:critical"], resource);\n',
      ),
      'reader',
      1,
      /permit reader\.sneaky of intent pack reader grants by action group Charter::Action::"tier:critical"/,
    ),
  );
  attack(CLS, 'a permit for a tool pack.yaml does not declare', () =>
    compileRefused(
      reader('\n@id("reader.buy")\npermit (principal == Charter::Agent::"reader", action == Shop::Action::"buy_item", resource);\n'),
      'reader',
      1,
      /permit reader\.buy of intent pack reader grants Shop::Action::"buy_item", which is not among the tools pack\.yaml declares for reader/,
    ),
  );
  attack(CLS, 'a permit for every action or another agent', () => {
    compileRefused(
      reader('\n@id("reader.any")\npermit (principal == Charter::Agent::"reader", action, resource);\n'),
      'reader',
      1,
      /permit reader\.any .* grants every action/,
    );
    compileRefused(
      reader('\n@id("reader.other")\npermit (principal, action == Shop::Action::"get_item", resource);\n'),
      'reader',
      1,
      /permit reader\.other of intent pack reader must name its own agent \(principal == Charter::Agent::"reader"\)/,
    );
  });
  attack(CLS, 'pack.yaml declaring a tool no permit grants (the two disagree)', () =>
    compileRefused(
      packsWith({ 'intent/buyer/policies/buy.cedar': (t) => t.replace(/@id\("buyer\.[^"]*"\)\s*permit[^;]*close_shop[^;]*;/, '') }),
      'buyer',
      1,
      /intent pack buyer declares close_shop in pack\.yaml but no permit grants it/,
    ),
  );
  attack(CLS, 'a permit in a domain pack', () =>
    compileRefused(
      packsWith({
        'domain/shop/policies/orders.cedar': (t) =>
          t + '\n@id("shop.open")\npermit (principal, action == Shop::Action::"buy_item", resource);\n',
      }),
      'reader',
      1,
      /permit shop\.open in domain pack shop grants Shop::Action::"buy_item", which is not an approval action .*only intent packs permit agents/,
    ),
  );
  /** The shipped packs with text appended to (or replaced in) some of their files, compiled on their own. */
  const shippedWith = (edits: Record<string, (t: string) => string>) =>
    packsFrom(
      SHIPPED,
      Object.fromEntries(Object.entries(edits).map(([rel, edit]) => [rel, edit(readFileSync(join(SHIPPED, rel), 'utf8'))])),
    );
  attack(CLS, 'a permit in base on the approval action (everyone approves)', () =>
    compileRefused(
      shippedWith({
        'base/policies/approvers.cedar': (t) =>
          t + '\n@id("base.everyone-approves")\npermit (principal, action in Charter::Action::"approval", resource);\n',
      }),
      'award-communications',
      1,
      /permit base\.everyone-approves in base pack base: base only forbids/,
    ),
  );
  attack(CLS, 'an approver permit in the domain pack that also names a tool', () =>
    compileRefused(
      shippedWith({
        'domain/procurement/policies/approvers.cedar': (t) =>
          t +
          '\n@id("procurement.approvers-and-awards")\npermit (principal, action in [Charter::Action::"approval", Procurement::Action::"issue_purchase_order"], resource);\n',
      }),
      'award-communications',
      1,
      /permit procurement\.approvers-and-awards in domain pack procurement grants by in Charter::Action::"approval", Procurement::Action::"issue_purchase_order": a domain pack permits only approvers, on its approval action/,
    ),
  );
  attack(CLS, 'a tool whose action joins the approval group (approver permits would grant it to agents)', () =>
    compileRefused(
      shippedWith({
        'domain/procurement/schema.cedarschema': (t) =>
          t.replace(
            'action cancel_negotiation in [Charter::Action::"tier:write-high"]',
            'action cancel_negotiation in [Charter::Action::"tier:write-high", Charter::Action::"approval"]',
          ),
      }),
      'compliance-review',
      1,
      /tool cancel_negotiation: its action Procurement::Action::"cancel_negotiation" is in Charter::Action::"approval"; an approval action is never a tool/,
    ),
  );
  attack(CLS, 'a constant condition on a critical permit compiles, and the Cedar findings gate flags it', () => {
    const packs = packsWith({
      'intent/buyer/policies/buy.cedar': (t) => t.replace(/(close_shop"?,\s*resource\))[^;]*;/, '$1\nwhen { 1 == 1 };'),
    });
    const out = join(home, 'constant.manifest.json');
    expect(charter('packs', 'compile', '--agent', 'buyer', '--no-shipped', '--packs', packs, '--out', out).code).toBe(0);
    const m = Manifest.parse(JSON.parse(Buffer.from(parseEnvelope(readFileSync(out, 'utf8'), out).payload, 'base64').toString('utf8')));
    const found = cedarFindings(m).find((f) => f.policy === 'buyer.close');
    expect(found?.rule).toBe('constant-condition-permit-on-high-risk-tool');
    expect(found?.message).toMatch(/permit whose condition is constant .* on close_shop \(critical\)/);
  });
});

describe('what goes into a pack', { timeout: 300_000 }, () => {
  const CLS = 'pack files';
  const outside = () => {
    const f = join(mkdtempSync(join(tmpdir(), 'charter-outside-')), 'evil.cedar');
    writeFileSync(f, '@id("reader.evil")\npermit (principal == Charter::Agent::"reader", action == Shop::Action::"get_item", resource);\n');
    return f;
  };

  attack(CLS, 'a symlinked policy file pointing outside the packs folder', () => {
    const packs = packsWith({});
    symlinkSync(outside(), join(packs, 'intent/reader/policies/evil.cedar'));
    compileRefused(
      packs,
      'reader',
      2,
      /intent\/reader\/policies\/evil\.cedar: symbolic links are not allowed in packs: intent\/reader\/policies\/evil\.cedar -> .*evil\.cedar \(outside the packs folder\)/,
    );
  });
  attack(CLS, 'a symlinked folder inside a pack', () => {
    const packs = packsWith({});
    symlinkSync(dirname(outside()), join(packs, 'intent/reader/policies/more'));
    compileRefused(packs, 'reader', 2, /symbolic links are not allowed in packs: intent\/reader\/policies\/more -> /);
  });
  attack(CLS, 'a policy file over the size limit', () => {
    const pad = `// ${'x'.repeat(1000)}\n`.repeat(Math.ceil(PACK_FILE_LIMITS.bytes / 1000) + 1);
    compileRefused(
      reader(pad),
      'reader',
      2,
      /intent\/reader\/policies\/read\.cedar: file is \d+ bytes, more than the limit of 1048576 for a pack file/,
    );
  });
  attack(CLS, 'a policy file over the policy count limit', () => {
    let extra = '';
    for (let i = 0; i <= PACK_FILE_LIMITS.policiesPerFile; i++)
      extra += `@id("reader.f${i}")\nforbid (principal, action, resource) when { false };\n`;
    compileRefused(
      reader(extra),
      'reader',
      2,
      /intent\/reader\/policies\/read\.cedar: file holds 1002 policies, more than the limit of 1000 for one file/,
    );
  });
  function reader(extra: string) {
    return packsWith({ 'intent/reader/policies/read.cedar': (t) => t + extra });
  }
});

describe('signing inputs of packs compile', { timeout: 300_000 }, () => {
  const CLS = 'signing inputs';

  attack(CLS, '--key with a key trusted only for approvals', () =>
    compileRefused(
      GOOD_PACKS,
      'reader',
      2,
      /\(--key\): signing key approver \([0-9a-f]{16}…\) has purposes approval, not manifest/,
      '--key',
      join(home, 'keys', 'approver.key.pem'),
    ),
  );
  attack(CLS, '--key with a key nobody trusts', () => {
    const other = mkdtempSync(join(tmpdir(), 'charter-other-'));
    const r = spawnSync(
      process.execPath,
      [CLI, 'keys', 'generate', '--name', 'stray', '--dir', other, '--trusted-keys', join(other, 't.json')],
      {
        encoding: 'utf8',
        env: { ...process.env, CHARTER_HOME: home },
      },
    );
    expect(r.status).toBe(0);
    compileRefused(
      GOOD_PACKS,
      'reader',
      2,
      /signing key [0-9a-f]{16}… is not in .*trusted-keys\.json: nobody could verify the manifest/,
      '--key',
      join(other, 'stray.key.pem'),
    );
  });
  attack(CLS, "--previous naming another agent's manifest", () => {
    const buyer = join(home, 'buyer.manifest.json');
    expect(charter('packs', 'compile', '--agent', 'buyer', '--no-shipped', '--packs', GOOD_PACKS, '--out', buyer).code).toBe(0);
    compileRefused(GOOD_PACKS, 'reader', 2, /\(--previous\): the previous manifest is of agent buyer, not of reader/, '--previous', buyer);
  });
});

describe('line numbers in large policy files', { timeout: 300_000 }, () => {
  const CLS = 'policy lines';

  // cedar-wasm hands policies back sorted by its ids (policy0, policy1, policy10, ...): the third
  // (policy2) comes after policy199, which a search moving forward from there never finds.
  attack(CLS, 'a strict-validation error in the third of 500 policies names its line', () => {
    const policy = (i: number) =>
      i === 2
        ? `// policy ${i}\n@id("reader.bad")\nforbid (principal, action, resource)\nwhen { context.nope };\n`
        : `// policy ${i}\n@id("reader.f${i}")\nforbid (principal, action, resource)\nwhen { false };\n`;
    const text = Array.from({ length: 500 }, (_, i) => policy(i)).join('\n');
    const packs = packsWith({ 'intent/reader/policies/many.cedar': () => text });
    // Policy 2 is lines 11-14 (two blocks of five lines before it); its condition is on line 14.
    refusedBy(
      1,
      /policy reader\.bad \(pack reader, intent\/reader\/policies\/many\.cedar:14:\d+\)/,
      'packs',
      'validate',
      '--no-shipped',
      '--packs',
      packs,
    );
  });
});
