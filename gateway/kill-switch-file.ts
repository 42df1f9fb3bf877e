import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lock } from 'proper-lockfile';
import { stringify } from 'yaml';
import { z } from 'zod';
import { FindingError, readYaml, writeFileAtomic } from '../common/index.js';
import { evidenceRecord, type EvidenceRecord } from '../audit/index.js';
import { digestJson } from '../signing/index.js';
import type { DecisionData } from './decide.js';

export type SwitchKind = 'tenant' | 'agent';

/**
 * Where the decision path learns whether a tenant or an agent is suspended: `true` or `false`,
 * or `undefined` when the state cannot be known (the gateway then denies: fail closed).
 */
export interface KillSwitchState {
  suspended(kind: SwitchKind, id: string): boolean | undefined;
}

/** For stacks without a kill-switch store (tests, benches): nothing is suspended. */
export const NO_KILL_SWITCHES: KillSwitchState = { suspended: () => false };

const SWITCHED: Readonly<Record<string, SwitchKind>> = { 'Charter::Tenant': 'tenant', 'Charter::Agent': 'agent' };

/**
 * Entity data with the kill switches laid over its tenants and agents: an engaged switch makes
 * the entity `suspended: true`; a switch whose state is unknown (unreadable file) removes the
 * attribute, which the gateway refuses (fail closed); otherwise the entity keeps its own state.
 */
export function withKillSwitches(data: DecisionData, switches: KillSwitchState): DecisionData {
  return {
    limits: (tenant) => data.limits(tenant),
    resolve(uid) {
      return data.resolve(uid)?.map((e) => {
        const kind = SWITCHED[e.uid.type];
        if (!kind) return e;
        const state = switches.suspended(kind, e.uid.id);
        if (state === false) return e;
        const { suspended: _own, ...attrs } = e.attrs;
        return { ...e, attrs: state ? { ...attrs, suspended: true } : attrs };
      });
    },
  };
}

const Engaged = z.strictObject({
  reason: z.string().min(1),
  by: z.string().min(1),
  at: z.string().datetime(),
});
export type Engaged = z.infer<typeof Engaged>;

export const KillSwitchDoc = z.strictObject({
  tenants: z.record(z.string().min(1), Engaged).default({}),
  agents: z.record(z.string().min(1), Engaged).default({}),
});
export type KillSwitchDoc = z.infer<typeof KillSwitchDoc>;

export interface SwitchChange {
  /** Queues the change's evidence, signed (the CLI and the console: into the gateway's evidence outbox). */
  seal?: (evidence: EvidenceRecord) => Promise<void>;
  now?: Date;
}

const section = (kind: SwitchKind) => (kind === 'tenant' ? 'tenants' : 'agents');

/**
 * Kill switches kept in a YAML file of the Charter home (`kill-switches.yaml`): the engaged
 * switches of tenants and agents, each with who engaged it, when and why. Read on every
 * decision (re-parsed only when the file changes), so a switch takes effect on the next call
 * without a restart. No file means nothing is engaged; a file that cannot be read or parsed
 * makes every state unknown, and the gateway denies every call until it is fixed.
 *
 * Each engage or release also returns an evidence record for the audit trail; the CLI queues
 * it for the gateway, the audit log's one writer.
 */
export class KillSwitchFile implements KillSwitchState {
  private cache: { stamp: string; doc: KillSwitchDoc } | undefined;

  constructor(readonly file: string) {}

  /** The Charter home's kill switches (`<home>/kill-switches.yaml`). */
  static inHome(home: string): KillSwitchFile {
    return new KillSwitchFile(join(home, 'kill-switches.yaml'));
  }

  /** The file's switches; throws an InputError naming the file, line and field when it is malformed. */
  read(): KillSwitchDoc {
    if (!existsSync(this.file)) return { tenants: {}, agents: {} };
    const st = statSync(this.file);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cache?.stamp !== stamp) this.cache = { stamp, doc: readYaml(this.file, KillSwitchDoc) };
    return this.cache.doc;
  }

  suspended(kind: SwitchKind, id: string): boolean | undefined {
    try {
      return Object.hasOwn(this.read()[section(kind)], id);
    } catch {
      return undefined;
    }
  }

  /**
   * Engages a switch; `by` is the name of the key that signs the change's evidence. `seal`, when
   * given, queues that evidence (signed) under the lock before the file changes: a change whose
   * evidence could not be signed does not happen.
   */
  engage(kind: SwitchKind, id: string, by: string, reason: string, { seal, now = new Date() }: SwitchChange = {}): Promise<EvidenceRecord> {
    return this.change(seal, () => {
      const doc = this.read();
      const current = doc[section(kind)][id];
      if (current)
        throw new FindingError(
          `the kill switch of ${kind} '${id}' is already engaged (by ${current.by} at ${current.at}: ${current.reason})`,
        );
      const engaged = { reason, by, at: now.toISOString() };
      return {
        doc: { ...doc, [section(kind)]: { ...doc[section(kind)], [id]: engaged } },
        evidence: switchEvidence(kind, id, { action: 'engage', ...engaged }),
      };
    });
  }

  /** Releases a switch; `by` is the approver whose key signs the release's evidence (`seal`: as for engage). */
  release(
    kind: SwitchKind,
    id: string,
    by: string,
    reason: string,
    { seal, now = new Date() }: SwitchChange = {},
  ): Promise<EvidenceRecord> {
    return this.change(seal, () => {
      const doc = this.read();
      const current = doc[section(kind)][id];
      if (!current) throw new FindingError(`the kill switch of ${kind} '${id}' is not engaged`);
      const rest = Object.fromEntries(Object.entries(doc[section(kind)]).filter(([k]) => k !== id));
      return {
        doc: { ...doc, [section(kind)]: rest },
        evidence: switchEvidence(kind, id, { action: 'release', reason, by, at: now.toISOString(), engaged: current }),
      };
    });
  }

  /**
   * One read-modify-write of the file under an exclusive lock (proper-lockfile: a `.lock`
   * directory beside it, stale after 10 s), so two operators acting at once both land. The
   * evidence is sealed before the new file is written.
   */
  private async change(seal: SwitchChange['seal'], fn: () => { doc: KillSwitchDoc; evidence: EvidenceRecord }): Promise<EvidenceRecord> {
    mkdirSync(dirname(this.file), { recursive: true });
    const unlock = await lock(this.file, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 100, minTimeout: 20, maxTimeout: 500 },
    });
    try {
      const { doc, evidence } = fn();
      await seal?.(evidence);
      this.write(doc);
      return evidence;
    } finally {
      await unlock();
    }
  }

  private write(doc: KillSwitchDoc): void {
    writeFileAtomic(
      this.file,
      `# Engaged kill switches (charter killswitch engage|release); every change is in the audit trail.\n${stringify(doc)}`,
    );
  }
}

function switchEvidence(
  kind: SwitchKind,
  id: string,
  act: { action: 'engage' | 'release'; reason: string; by: string; at: string; engaged?: Engaged },
): EvidenceRecord {
  const document = { kind, id, ...act };
  const verb = act.action === 'engage' ? 'engaged' : 'released';
  return evidenceRecord({
    evidenceType: 'kill-switch',
    digest: digestJson(document),
    subject: `kill-switch:${kind}:${id}`,
    summary: `${act.by} ${verb} the kill switch of ${kind} '${id}': ${act.reason}`,
    document,
    runId: null,
    tenantId: kind === 'tenant' ? id : null,
  });
}
