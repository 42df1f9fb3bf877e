import { Badge, Callout, Code, Flex, Heading, Table, Text } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { ReleaseCell, ReleaseMatrix } from '../../../pages-types.js';
import { apiGet, queryString } from '../api.js';
import { Link } from '../router.js';
import type { PageProps } from './index.js';

const GATE_COLOR = { pass: 'green', fail: 'red', 'not-run': 'amber' } as const;
const short = (d: string) => d.replace('sha256:', '').slice(0, 12);

/** One cell's evidence: its gates (with waivers: who and why), approvals, reports, replay flips (deny -> allow first) and history. */
function CellDetail({ cell }: { cell: ReleaseCell }) {
  const c = cell.current;
  return (
    <Flex direction="column" gap="3" data-testid="release-detail">
      <Heading as="h3" size="4">
        {cell.agent} in {cell.environment}
      </Heading>
      {c ? (
        <>
          <Text size="2">
            {c.action} of manifest <Link href={`/packs/manifests/${c.manifestDigest}`}>{short(c.manifestDigest)}</Link> by {c.releasedBy} at{' '}
            {c.releasedAt}
            {c.reason ? ` (${c.reason})` : ''}; approved by {c.approvals.map((a) => a.approver).join(', ') || 'nobody'}.
          </Text>
          <Table.Root variant="surface" aria-label="Gates">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Gate</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Evidence</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Waiver</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {c.gates.map((g) => (
                <Table.Row key={g.gate}>
                  <Table.Cell>
                    {g.gate} <Text size="1">({g.enforcement})</Text>
                  </Table.Cell>
                  <Table.Cell>
                    <Badge color={GATE_COLOR[g.status]} highContrast>
                      {g.status}
                    </Badge>
                  </Table.Cell>
                  <Table.Cell>
                    {g.summary}
                    {g.reasons.length > 0 && (
                      <Text as="div" size="1">
                        {g.reasons.join('; ')}
                      </Text>
                    )}
                  </Table.Cell>
                  <Table.Cell>
                    {g.waiver
                      ? `waived by ${g.waiver.approvers.join(', ')}: ${g.waiver.items.map((i) => `${i.check} (${i.reasons.join('; ')})`).join(', ')}`
                      : ''}
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
          <Text size="2">Eval reports: {c.evalReports.map((r) => `${r.suite} ${short(r.digest)}`).join(', ') || 'none'}.</Text>
          <Heading as="h4" size="3">
            Replay flips ({c.flips.length}, deny → allow first)
          </Heading>
          {c.flips.length === 0 ? (
            <Text size="2">
              No decision of the replayed traffic changes{c.replay ? ` (${String(c.replay.replayed ?? 0)} replayed)` : ''}.
            </Text>
          ) : (
            <Table.Root variant="surface" aria-label="Replay flips">
              <Table.Body>
                {c.flips.map((f) => (
                  <Table.Row key={f.recordId}>
                    <Table.Cell>
                      <Badge color={f.to === 'allow' ? 'red' : 'gray'} highContrast>
                        {f.from} → {f.to}
                      </Badge>
                    </Table.Cell>
                    <Table.Cell>
                      {f.tenant} {f.tool}
                    </Table.Cell>
                    <Table.Cell>{f.determining.join(', ')}</Table.Cell>
                    <Table.Cell>{f.highRisk ? (f.accepted ? 'high risk, accepted' : 'high risk') : ''}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root>
          )}
        </>
      ) : (
        <Text size="2">Not released to {cell.environment}.</Text>
      )}
      <Heading as="h4" size="3">
        History (newest first)
      </Heading>
      <Table.Root variant="surface" aria-label="Release history">
        <Table.Body>
          {cell.history.map((h) => (
            <Table.Row key={h.recordDigest}>
              <Table.Cell>{h.releasedAt}</Table.Cell>
              <Table.Cell>
                <Badge color={h.action === 'rollback' ? 'orange' : 'indigo'}>{h.action}</Badge>
              </Table.Cell>
              <Table.Cell>
                <Code size="1">{short(h.manifestDigest)}</Code>
              </Table.Cell>
              <Table.Cell>
                {h.releasedBy}
                {h.reason ? `: ${h.reason}` : ''}
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Flex>
  );
}

/** Releases: the environment x agent matrix of the gates; a cell opens its evidence (?env=&agent=, a stable link). */
export function ReleasesPage({ search }: PageProps) {
  const [matrix, setMatrix] = useState<ReleaseMatrix | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<ReleaseMatrix>('/api/releases').then(setMatrix, (e: Error) => setError(e.message));
  }, []);
  const q = new URLSearchParams(search);
  const selected = matrix?.cells.find((c) => c.environment === q.get('env') && c.agent === q.get('agent'));
  const cell = (env: string, agent: string) => matrix!.cells.find((c) => c.environment === env && c.agent === agent)!;
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Releases
      </Heading>
      <Text as="p" size="2">
        Each agent&apos;s current release per environment, verified (signature and history chain), with how many of its gates passed.
      </Text>
      {error && (
        <Callout.Root color="red" highContrast role="alert">
          <Callout.Text>{error}</Callout.Text>
        </Callout.Root>
      )}
      {matrix && (
        <Table.Root variant="surface" aria-label="Releases by environment and agent">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeaderCell>Agent</Table.ColumnHeaderCell>
              {matrix.environments.map((e) => (
                <Table.ColumnHeaderCell key={e}>{e}</Table.ColumnHeaderCell>
              ))}
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {matrix.agents.map((agent) => (
              <Table.Row key={agent}>
                <Table.RowHeaderCell>{agent}</Table.RowHeaderCell>
                {matrix.environments.map((env) => {
                  const c = cell(env, agent).current;
                  const passed = c?.gates.filter((g) => g.status === 'pass').length ?? 0;
                  const waived = c?.gates.filter((g) => g.waiver).length ?? 0;
                  return (
                    <Table.Cell key={env}>
                      {c ? (
                        <Link href={`/releases${queryString({ env, agent })}`}>
                          {c.action} {short(c.manifestDigest)} · {passed}/{c.gates.length} gates{waived ? ` · ${waived} waived` : ''}
                        </Link>
                      ) : (
                        <Text size="1">not released</Text>
                      )}
                    </Table.Cell>
                  );
                })}
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      )}
      {selected && <CellDetail cell={selected} />}
    </Flex>
  );
}
