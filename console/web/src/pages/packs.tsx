import { Badge, Button, Callout, Code, Flex, Heading, Table, Text } from '@radix-ui/themes';
import { useEffect, useState, type FormEvent } from 'react';
import type { ManifestDiffView, ManifestListView, ManifestSummary } from '../../../pages-types.js';
import { apiGet, queryString } from '../api.js';
import { Link, navigate } from '../router.js';
import type { PageProps } from './index.js';

const short = (d: string) => d.replace('sha256:', '').slice(0, 12);

function Failure({ error }: { error: string | null }) {
  return error ? (
    <Callout.Root color="red" highContrast role="alert">
      <Callout.Text>{error}</Callout.Text>
    </Callout.Root>
  ) : null;
}

function Packs({ m }: { m: ManifestSummary }) {
  return (
    <>
      {m.packs.map((p) => (
        <Text as="div" size="1" key={p.name}>
          {p.name}@{p.version} <Text color="gray">({p.layer})</Text>
          {p.coverage ? ` · coverage ${p.coverage.covered}/${p.coverage.total} (${p.coverage.percent}%)` : ''}
        </Text>
      ))}
    </>
  );
}

/** Manifests with their packs and versions and coverage; pick two to see what would change. */
export function PacksPage() {
  const [list, setList] = useState<ManifestListView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pair, setPair] = useState({ old: '', new: '' });
  useEffect(() => {
    apiGet<ManifestListView>('/api/packs/manifests').then(setList, (e: Error) => setError(e.message));
  }, []);
  const compare = (e: FormEvent): void => {
    e.preventDefault();
    navigate(`/packs/diff${queryString(pair)}`);
  };
  const options = list?.manifests.map((m) => (
    <option key={m.digest} value={m.digest}>
      {m.agent} {short(m.digest)} ({m.where.join(', ')})
    </option>
  ));
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Packs
      </Heading>
      <Text as="p" size="2">
        The signed manifests of this home (compiled, and released to each environment), verified, with the packs and versions each composes
        and each pack&apos;s test coverage from the release evidence.
      </Text>
      <Failure error={error} />
      {list?.unverified.map((u) => (
        <Failure key={u.file} error={`${u.file} does not verify: ${u.error}`} />
      ))}
      <form onSubmit={compare} aria-label="Compare two manifests">
        <Flex gap="3" align="end" wrap="wrap">
          {(['old', 'new'] as const).map((side) => (
            <div key={side}>
              <Text as="label" size="1" weight="bold" htmlFor={`diff-${side}`}>
                {side === 'old' ? 'Old manifest' : 'New manifest'}
              </Text>
              <select
                id={`diff-${side}`}
                value={pair[side]}
                onChange={(e) => setPair({ ...pair, [side]: e.target.value })}
                style={{ display: 'block', minHeight: 32 }}
              >
                <option value="">choose…</option>
                {options}
              </select>
            </div>
          ))}
          <Button type="submit" disabled={!pair.old || !pair.new}>
            What would change
          </Button>
        </Flex>
      </form>
      <Table.Root variant="surface" aria-label="Manifests">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Agent</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Manifest</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Where</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Packs</Table.ColumnHeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {list?.manifests.map((m) => (
            <Table.Row key={m.digest}>
              <Table.Cell>{m.agent}</Table.Cell>
              <Table.Cell>
                <Link href={`/packs/manifests/${m.digest}`}>{short(m.digest)}</Link>
              </Table.Cell>
              <Table.Cell>{m.where.join(', ')}</Table.Cell>
              <Table.Cell>
                <Packs m={m} />
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Flex>
  );
}

/** One manifest by digest: the trail's record page links here. */
export function ManifestPage({ params }: PageProps) {
  const [m, setM] = useState<(ManifestSummary & { policyIds: string[] }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<ManifestSummary & { policyIds: string[] }>(`/api/packs/manifests/${encodeURIComponent(params.digest!)}`).then(setM, (e: Error) =>
      setError(e.message),
    );
  }, [params.digest]);
  if (error) return <Failure error={error} />;
  if (!m) return <Text>Loading…</Text>;
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="6">
        Manifest of {m.agent}
      </Heading>
      <Code size="2">{m.digest}</Code>
      <Text size="2">
        {m.where.join(', ')} · previous manifest {m.previousManifestDigest ? short(m.previousManifestDigest) : 'none'}
      </Text>
      <Heading as="h3" size="4">
        Packs
      </Heading>
      <Packs m={m} />
      <Heading as="h3" size="4">
        Tools
      </Heading>
      <Flex gap="2" wrap="wrap">
        {m.tools.map((t) => (
          <Badge key={t.name} color={t.tier === 'critical' || t.tier === 'write-high' ? 'orange' : 'gray'}>
            {t.name} · {t.tier}
          </Badge>
        ))}
      </Flex>
      <Heading as="h3" size="4">
        Policies ({m.policyIds.length})
      </Heading>
      <Text size="1">{m.policyIds.join(', ')}</Text>
    </Flex>
  );
}

/** What would change between two manifests (charter packs diff): decisions that flip, deny → allow first. */
export function ManifestDiffPage({ search }: PageProps) {
  const q = new URLSearchParams(search);
  const [d, setD] = useState<ManifestDiffView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<ManifestDiffView>(`/api/packs/diff${search}`).then(setD, (e: Error) => setError(e.message));
  }, [search]);
  if (error) return <Failure error={error} />;
  if (!d)
    return (
      <Text>
        Comparing {short(q.get('old') ?? '')} with {short(q.get('new') ?? '')}…
      </Text>
    );
  const flips = d.decisions.filter((x) => x.decisionChanged);
  return (
    <Flex direction="column" gap="3">
      <Heading as="h2" size="6">
        What would change
      </Heading>
      <Text size="2">
        <Link href={`/packs/manifests/${d.old}`}>{short(d.old)}</Link> → <Link href={`/packs/manifests/${d.new}`}>{short(d.new)}</Link>:
        policies +{d.policies.added.length} −{d.policies.removed.length} ~{d.policies.changed.length}; tools +{d.tools.added.length} −
        {d.tools.removed.length} ~{d.tools.changed.length}; {flips.length} of {d.corpusSize} corpus requests change decision
        {d.baseChanged ? '; the base changed' : ''}.
      </Text>
      {d.layers.map((l) => (
        <Text key={l.name} size="1">
          layer {l.name}: {l.old ?? '(none)'} → {l.new ?? '(none)'}
        </Text>
      ))}
      <Table.Root variant="surface" aria-label="Decision changes">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Change</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Request</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Old determining</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>New determining</Table.ColumnHeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {d.decisions.map((x) => (
            <Table.Row key={x.key}>
              <Table.Cell>
                <Badge color={x.decisionChanged ? (x.new.decision === 'allow' ? 'red' : 'amber') : 'gray'} highContrast>
                  {x.old.decision} → {x.new.decision}
                </Badge>
              </Table.Cell>
              <Table.Cell>{x.key}</Table.Cell>
              <Table.Cell>{x.old.determining.join(', ')}</Table.Cell>
              <Table.Cell>{x.new.determining.join(', ')}</Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      {d.decisions.length === 0 && <Text size="2">No corpus request changes decision or determining policies.</Text>}
    </Flex>
  );
}
