import { Badge, Callout, Code, DataList, Flex, Heading, Text } from '@radix-ui/themes';
import { useEffect, useState, type ReactNode } from 'react';
import type { RecordView } from '../../../api-types.js';
import { apiGet } from '../api.js';
import { VerifyBanner } from '../banner.js';
import { checkProof, type ProofCheck } from '../proof.js';
import { Link } from '../router.js';
import type { PageProps } from './index.js';

const show = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** One record: its decision, reasons, policies, manifest (linked), and its inclusion proof checked here, in the browser. */
export function RecordPage({ params }: PageProps) {
  const [view, setView] = useState<RecordView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<ProofCheck | null>(null);

  useEffect(() => {
    setView(null);
    setCheck(null);
    apiGet<RecordView>(`/api/trail/records/${encodeURIComponent(params.id!)}`).then(
      (v) => {
        setView(v);
        checkProof(v).then(setCheck, (e: Error) => setCheck({ ok: false, step: 'checkpoint', message: e.message }));
      },
      (e: Error) => setError(e.message),
    );
  }, [params.id]);

  if (error)
    return (
      <Flex direction="column" gap="3">
        <Heading as="h2" size="6">
          Trail record
        </Heading>
        <Callout.Root highContrast color="red" role="alert">
          <Callout.Text>{error}</Callout.Text>
        </Callout.Root>
        <Link href="/trail">Back to the trail</Link>
      </Flex>
    );
  if (!view) return <Text>Loading…</Text>;
  const r = view.record;
  const digest = typeof r.manifestDigest === 'string' ? r.manifestDigest : null;

  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Trail record <Code highContrast>{r.id}</Code>
      </Heading>
      <VerifyBanner />
      <ProofResult check={check} trusted={view.trust.trusted} source={view.trust.source} />
      <DataList.Root aria-label="Record">
        <Item label="Seq">{r.seq}</Item>
        <Item label="Time">{show(r.time)}</Item>
        <Item label="Kind">{r.kind === 'evidence' ? `evidence: ${show(r.evidenceType)}` : 'decision'}</Item>
        <Item label="Tenant">{show(r.tenantId)}</Item>
        {r.kind === 'decision' ? (
          <>
            <Item label="Decision">
              <Badge color={r.decision === 'deny' ? 'red' : 'green'}>{show(r.decision)}</Badge>
            </Item>
            <Item label="Agent">{show(r.agentId)}</Item>
            <Item label="Tool">{show(r.tool)}</Item>
            <Item label="Tier">{show(r.tier)}</Item>
            <Item label="Reasons">
              <ul style={{ margin: 0, paddingLeft: '1.2em' }}>
                {(r.reasons as string[]).map((x) => (
                  <li key={x}>{x}</li>
                ))}
              </ul>
            </Item>
            <Item label="Policy ids">{(r.determiningPolicies as string[]).join(', ') || '—'}</Item>
            <Item label="Principal">{show(r.principal)}</Item>
            <Item label="Action">{show(r.action)}</Item>
            <Item label="Resource">{show(r.resource)}</Item>
            <Item label="Manifest">{digest ? <Link href={`/packs/manifests/${digest}`}>{digest}</Link> : '—'}</Item>
            <Item label="Mode">{show(r.mode)}</Item>
          </>
        ) : (
          <>
            <Item label="Summary">{show(r.summary)}</Item>
            <Item label="Subject">{show(r.subject)}</Item>
            <Item label="Digest">{show(r.digest)}</Item>
          </>
        )}
        <Item label="Trace">{show(r.traceId)}</Item>
        <Item label="Record hash">
          <Code highContrast>{r.hash}</Code>
        </Item>
      </DataList.Root>
      <Link href="/trail">Back to the trail</Link>
    </Flex>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <DataList.Item>
      <DataList.Label minWidth="140px">{label}</DataList.Label>
      <DataList.Value>{children}</DataList.Value>
    </DataList.Item>
  );
}

function ProofResult({ check, trusted, source }: { check: ProofCheck | null; trusted: boolean; source: string }) {
  if (!check)
    return (
      <Callout.Root highContrast color="gray" role="status" data-testid="proof" data-state="checking">
        <Callout.Text>Checking the inclusion proof in this browser…</Callout.Text>
      </Callout.Root>
    );
  if (!check.ok)
    return (
      <Callout.Root highContrast color="red" role="status" data-testid="proof" data-state="failed">
        <Callout.Text>
          <strong>Inclusion proof FAILED</strong> ({check.step}): {check.message}
        </Callout.Text>
      </Callout.Root>
    );
  return (
    <Callout.Root
      highContrast
      color={trusted ? 'green' : 'amber'}
      role="status"
      data-testid="proof"
      data-state={trusted ? 'verified' : 'untrusted'}
    >
      <Callout.Text>
        <strong>{trusted ? 'Inclusion proof verified in this browser' : 'Inclusion proof checks, but the key is UNTRUSTED'}</strong>: the
        record&apos;s hash, its audit path to the root of tree size {check.treeSize.toLocaleString('en')}, and the checkpoint signed by{' '}
        <Code highContrast>{check.keyName}</Code> ({check.origin}). Key from: {source}.
      </Callout.Text>
    </Callout.Root>
  );
}
