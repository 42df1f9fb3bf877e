/**
 * The console's HTTP API types, shared by the server (console/routes) and the front end
 * (console/web): one definition, so a field renamed on one side fails the other's typecheck.
 * Plain types only: the front end imports this file and nothing else from the server.
 */

export type Role = 'auditor' | 'approver' | 'security' | 'ml';

/** GET /api/session: who the token says you are. */
export interface SessionInfo {
  name: string;
  role: Role;
  /** The one tenant you may see, or null for every tenant. */
  tenant: string | null;
}

/** The trail's filters, as query parameters of GET /api/trail (all optional, combined with AND). */
export interface TrailFilter {
  tenant?: string;
  agent?: string;
  tool?: string;
  tier?: string;
  decision?: 'allow' | 'deny';
  kind?: 'decision' | 'evidence';
  manifest?: string;
  trace?: string;
  /** ISO-8601, inclusive. */
  from?: string;
  /** ISO-8601, exclusive. */
  to?: string;
  /** The `next` of the previous page. */
  cursor?: string;
}

/** One line of the trail list. */
export interface TrailRow {
  id: string;
  seq: number;
  time: string;
  kind: 'decision' | 'evidence';
  tenant: string | null;
  agent: string | null;
  tool: string | null;
  tier: string | null;
  decision: 'allow' | 'deny' | null;
  /** Evidence type, for evidence records. */
  evidenceType: string | null;
  summary: string;
  trace: string | null;
}

/** GET /api/trail: one page, newest first; `next` fetches the following page (keyset, not offset). */
export interface TrailPage {
  rows: TrailRow[];
  next: string | null;
  elapsedMs: number;
}

/** A key the browser checks checkpoint signatures with: the C2SP note key name and the raw Ed25519 public key. */
export interface CheckpointKey {
  name: string;
  /** base64 of the 32-byte Ed25519 public key. */
  publicKey: string;
}

/** Where the browser's trusted key comes from, as the console was started. */
export interface TrustInfo {
  /** True when the keys came from outside the trail (`--trusted-keys` or CHARTER_AUDIT_TRUSTED_KEYS outside the home). */
  trusted: boolean;
  /** The file, or why the keys are not trusted. */
  source: string;
  keys: CheckpointKey[];
}

/** GET /api/trail/records/:id: the sealed record and its inclusion proof, to be checked in the browser. */
export interface RecordView {
  /** The sealed record exactly as stored (the browser recomputes its hash). */
  record: Record<string, unknown> & { id: string; seq: number; hash: string; kind: 'decision' | 'evidence' };
  proof: {
    treeSize: number;
    /** RFC 9162 audit path, leaf to root, base64. */
    auditPath: string[];
    /** The signed C2SP checkpoint note the path leads to. */
    checkpoint: string;
  };
  trust: TrustInfo;
}

/** GET /api/trail/status: the trail's verification (audit verify through the entry point). */
export interface TrailStatus {
  ok: boolean;
  trusted: boolean;
  /** Why the keys are not trusted, when they are not. */
  untrustedReason: string | null;
  checkedAt: string;
  /** Tree size of the newest checkpoint verified (the log's total, which every inclusion proof shows too). */
  treeSize: number;
  /** The segments (or checkpoints) with findings, each with the kinds found: what turns the banner red. */
  failing: Array<{ key: string; kinds: string[] }>;
  findings: number;
}

/** POST /api/trail/export: an evidence bundle for one tenant and period (the body of `charter audit export`). */
export interface ExportRequest {
  tenant: string;
  from?: string;
  to?: string;
}

/** An error body: every non-2xx answer of the API. */
export interface ApiError {
  error: string;
}
