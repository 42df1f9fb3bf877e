/**
 * What `charter packs diff` answers, as types only and with no imports, so the console's front
 * end (browser code, no Node) reads the same definition the CLI and the console API answer with.
 */

export interface DecisionChange {
  key: string;
  /** True when allow/deny flips; false when only the determining policies differ. */
  decisionChanged: boolean;
  tool: string;
  tenant: string;
  old: { decision: 'allow' | 'deny'; determining: string[] };
  new: { decision: 'allow' | 'deny'; determining: string[] };
}

export interface ManifestDiff {
  old: string;
  new: string;
  baseChanged: boolean;
  policies: { added: string[]; removed: string[]; changed: string[] };
  tools: { added: string[]; removed: string[]; changed: Array<{ name: string; field: string; old: unknown; new: unknown }> };
  layers: Array<{ name: string; old: string | null; new: string | null }>;
  /** Corpus requests whose decision or determining set differs, decision flips first. */
  decisions: DecisionChange[];
  corpusSize: number;
}
