import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readText } from '../common/index.js';
import type { Manifest } from '../policy-packs/index.js';
import { fail, pass, type CheckOutcome } from './gate-result.js';

export interface SecretFinding {
  file: string;
  line: number;
  rule: string;
  /** The match with its middle masked, enough to find it, not enough to use it. */
  redacted: string;
}

/** Known credential formats (the shapes gitleaks and GitHub secret scanning look for). */
const RULES: Array<{ rule: string; re: RegExp }> = [
  { rule: 'private-key', re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/g },
  { rule: 'aws-access-key-id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { rule: 'github-token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { rule: 'slack-token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g },
  { rule: 'stripe-secret-key', re: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/g },
  { rule: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { rule: 'jwt', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
  { rule: 'anthropic-or-openai-key', re: /\bsk-(?:ant-)?[A-Za-z0-9_-]{32,}\b/g },
];

/** A value assigned to a credential-sounding name: `password: ...`, `"api_key": "..."`, `SECRET=...`. */
const ASSIGNMENT =
  /(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)["']?\s*[:=]\s*["']?([^\s"'`,;}{]{8,})/gi;
/** Long runs of base64/base62 characters, the raw material of generated secrets. */
const TOKEN = /[A-Za-z0-9+/_=-]{24,}/g;
/** Suppresses a finding on its line, for a reviewed false positive. */
const ALLOW_MARK = 'charter:allow-secret';

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function redact(s: string): string {
  return s.length <= 8 ? '*'.repeat(s.length) : `${s.slice(0, 4)}${'*'.repeat(Math.min(s.length - 8, 12))}${s.slice(-4)}`;
}

/** Mixed letters and digits: identifiers in prose and kebab-case names are not secrets. */
const looksGenerated = (s: string) => /[0-9]/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s);

/** Scans one text: pattern rules, credential assignments, and high-entropy tokens. */
export function scanText(text: string, file: string, minEntropy: number): SecretFinding[] {
  const findings: SecretFinding[] = [];
  text.split('\n').forEach((lineText, i) => {
    if (lineText.includes(ALLOW_MARK)) return;
    const seen = new Set<string>();
    const add = (rule: string, match: string) => {
      if (seen.has(match)) return;
      seen.add(match);
      findings.push({ file, line: i + 1, rule, redacted: redact(match) });
    };
    for (const { rule, re } of RULES) for (const m of lineText.matchAll(re)) add(rule, m[0]);
    for (const m of lineText.matchAll(ASSIGNMENT)) {
      const value = m[1]!;
      if (shannonEntropy(value) >= minEntropy - 1 && looksGenerated(value)) add('credential-assignment', value);
    }
    for (const m of lineText.matchAll(TOKEN)) {
      if (shannonEntropy(m[0]) >= minEntropy && looksGenerated(m[0])) add('high-entropy-string', m[0]);
    }
  });
  return findings;
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.charter']);

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => !SKIP_DIRS.has(e.name))
    .flatMap((e) => filesUnder(join(path, e.name)))
    .sort();
}

/** Findings per file version: `release check --all` scans the same packs and datasets for every agent. */
const scanned = new Map<string, SecretFinding[]>();

function scanFile(file: string, minEntropy: number): SecretFinding[] {
  const st = statSync(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}\0${minEntropy}`;
  let found = scanned.get(key);
  if (!found) {
    const text = readText(file);
    found = text.includes('\u0000') ? [] : scanText(text, relative(process.cwd(), file) || file, minEntropy); // NUL: binary
    scanned.set(key, found);
  }
  return found;
}

/**
 * Secrets in the candidate's policies, schema and tool contracts (as signed into the manifest)
 * and in every file under the given paths (packs, datasets, config).
 */
export function checkSecrets(manifest: Manifest, paths: string[], minEntropy: number): CheckOutcome {
  const findings: SecretFinding[] = [];
  for (const [id, p] of Object.entries(manifest.policies))
    findings.push(...scanText(p.text, `manifest:policies["${id}"] (${p.file})`, minEntropy));
  findings.push(...scanText(manifest.schema.text, 'manifest:schema', minEntropy));
  findings.push(...scanText(JSON.stringify(manifest.tools, null, 1), 'manifest:tools', minEntropy));
  let files = 0;
  for (const root of paths) {
    for (const file of filesUnder(root)) {
      files++;
      findings.push(...scanFile(file, minEntropy));
    }
  }
  const evidence = { scanned: { manifestPolicies: Object.keys(manifest.policies).length, paths, files }, minEntropy, findings };
  const summary = `${findings.length} secret(s) in ${Object.keys(manifest.policies).length} policies and ${files} file(s)`;
  return findings.length
    ? fail(
        summary,
        findings.map((f) => `${f.file}:${f.line}: ${f.rule} ${f.redacted}`),
        evidence,
      )
    : pass(summary, evidence);
}
