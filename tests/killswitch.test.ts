import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog, queryAudit } from '../audit/index.js';
import { contentPath } from '../common/index.js';
import { KillSwitchFile } from '../gateway/index.js';
import { openProcurementStack, referenceWorld, sampleRequisition } from '../orchestrator/index.js';
import { procurementHome, type ProcurementHome } from './procurement-home.js';

const CLI = contentPath('dist', 'cli', 'main.js');
let dir: string;
let home: ProcurementHome;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'charter-killswitch-'));
  home = await procurementHome(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kill switches in the negotiation path', () => {
  it('a suspended tenant or agent is denied from the next call on, without a restart; an unreadable switch file denies everything', async () => {
    const switches = new KillSwitchFile(join(dir, 'kill-switches.yaml'));
    const world = referenceWorld({ tenants: ['acme', 'globex'] });
    const suppliers = await world.network.serve();
    const audit = await openAuditLog({ dir: join(dir, 'audit'), signer: home.auditSigner, origin: 'test/killswitch' });
    const stack = await openProcurementStack({
      ...home.stackOptions(join(dir, 'run'), world, suppliers.url, audit),
      killSwitches: switches,
    });
    const negotiate = (tenant: string, i: number) => stack.orchestrator.negotiate(tenant, sampleRequisition(tenant, i));
    const deniedReasons = async (tenant: string) => {
      await audit.flush();
      return (await queryAudit({ dir: join(dir, 'audit'), tenant, kind: 'decision', decision: 'deny' })).flatMap((r) =>
        r.kind === 'decision' ? r.reasons : [],
      );
    };
    try {
      await switches.engage('tenant', 'acme', 'sec-oncall', 'suspected credential leak');
      const [acme, globex] = await Promise.all([negotiate('acme', 0), negotiate('globex', 0)]);
      // Even the compliance review is refused for a suspended tenant: the case waits for a human.
      expect(acme).toMatchObject({
        status: 'REQUIRES_ATTENTION',
        attention: { trigger: 'tool_refused', caseId: null, details: { review: expect.stringContaining('base.suspended-tenant') } },
      });
      expect(globex.status, globex.reason ?? '').toBe('AWARDED');
      expect((await deniedReasons('acme')).join('\n')).toContain('base.suspended-tenant');
      expect(await deniedReasons('globex')).toEqual([]);

      await switches.release('tenant', 'acme', 'sec-oncall', 'credentials rotated');
      expect((await negotiate('acme', 1)).status).toBe('AWARDED');

      // Node 2's agent for every tenant.
      await switches.engage('agent', 'kraljic-classifier', 'sec-oncall', 'prompt injection under investigation');
      expect(await negotiate('globex', 1)).toMatchObject({
        status: 'REQUIRES_ATTENTION',
        attention: { trigger: 'tool_refused', caseId: expect.any(String), details: { node: 'classify' } },
      });
      expect((await deniedReasons('globex')).join('\n')).toContain('base.suspended-agent');
      await switches.release('agent', 'kraljic-classifier', 'sec-oncall', 'fixed');

      writeFileSync(switches.file, 'tenants: [\n');
      expect((await negotiate('globex', 2)).status).not.toBe('AWARDED');
      expect((await deniedReasons('globex')).join('\n')).toMatch(/kill switch state of tenant 'globex' is unknown .*fail closed/);
    } finally {
      await stack.close();
      await audit.close();
      await suppliers.close();
    }
  }, 120_000);
});

describe('charter killswitch', () => {
  const cliHome = () => join(dir, 'cli');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const charter = (...args: string[]) => run('killswitch', ...args, '--home', cliHome());
  const key = (name: string) => join(cliHome(), 'keys', `${name}.key.pem`);

  it('engages, lists and releases switches, queues each change as audit evidence, and refuses bad input with the exit code a CI can act on', () => {
    for (const [name, purpose] of [
      ['ann', 'operator'],
      ['bob', 'operator'],
      ['carol', 'approval'],
    ])
      expect(run('keys', 'generate', '--name', name!, '--purpose', purpose!, '--dir', join(cliHome(), 'keys')).code).toBe(0);
    writeFileSync(join(cliHome(), 'tenants.yaml'), 'tenants:\n  acme: {}\n');
    expect(charter('engage', '--tenant', 'acme', '--agent', 'spot-bidding', '--key', key('ann'), '--reason', 'x')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('exactly one of --tenant or --agent'),
    });
    expect(charter('engage', '--tenant', 'acme', '--key', key('ann'), '--reason', 'incident 42').code).toBe(0);
    expect(charter('engage', '--tenant', 'acme', '--key', key('bob'), '--reason', 'again')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('already engaged (by ann'),
    });
    const listed = JSON.parse(charter('list', '--json').stdout) as {
      engaged: Array<{ kind: string; id: string; by: string; reason: string }>;
    };
    expect(listed.engaged).toEqual([expect.objectContaining({ kind: 'tenant', id: 'acme', by: 'ann', reason: 'incident 42' })]);
    expect(charter('release', '--tenant', 'acme', '--key', key('carol'), '--reason', 'resolved').code).toBe(0);
    expect(charter('release', '--tenant', 'acme', '--key', key('carol'), '--reason', 'resolved')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is not engaged'),
    });
    const outbox = join(cliHome(), 'approvals', 'evidence');
    expect(existsSync(outbox) && readdirSync(outbox).filter((f) => f.endsWith('.json'))).toHaveLength(2);

    writeFileSync(join(cliHome(), 'kill-switches.yaml'), 'tenants:\n  acme: { by: ann }\n');
    const bad = charter('list');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('kill-switches.yaml');
    expect(bad.stderr).toMatch(/reason/);
  }, 240_000); // eleven CLI processes, slow on a loaded machine
});
