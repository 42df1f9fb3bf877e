import { Badge, Callout, Flex, Heading, Table, Text } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { CalibrationView, EvalList, EvalReportView, MetricView, UsageView } from '../../../pages-types.js';
import { apiGet } from '../api.js';
import { Link } from '../router.js';
import type { PageProps } from './index.js';

/** A metric's estimate and 95% interval drawn on [0, 1]. */
export function Interval({ m }: { m: MetricView }) {
  if (m.status !== 'ok' || m.estimate === null) return <Text size="1">not run{m.note ? `: ${m.note}` : ''}</Text>;
  const x = (v: number) => 4 + Math.max(0, Math.min(1, v)) * 152;
  const label = `${m.name}: ${m.estimate.toFixed(3)} (95% interval ${m.low?.toFixed(3)} to ${m.high?.toFixed(3)}, n=${m.n})`;
  return (
    <Flex gap="2" align="center">
      <svg width="160" height="16" role="img" aria-label={label}>
        <line x1="4" x2="156" y1="8" y2="8" stroke="var(--gray-7)" />
        <line x1={x(m.low ?? m.estimate)} x2={x(m.high ?? m.estimate)} y1="8" y2="8" stroke="var(--indigo-11)" strokeWidth="4" />
        <circle cx={x(m.estimate)} cy="8" r="4" fill="var(--indigo-12)" />
      </svg>
      <Text size="1">
        {m.estimate.toFixed(3)} [{m.low?.toFixed(3)}, {m.high?.toFixed(3)}]
      </Text>
    </Flex>
  );
}

/** The calibration's per-label counts: human labels down, the judge's across; the diagonal is agreement. */
export function ConfusionMatrix({ cal }: { cal: CalibrationView }) {
  if (!cal.confusion)
    return <Text size="2">This calibration record (version 1) has no per-label counts; calibrate the judge again to see them.</Text>;
  const { labels, counts } = cal.confusion;
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return (
    <Table.Root variant="surface" size="1" aria-label="Judge calibration confusion matrix" style={{ maxWidth: 560 }}>
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeaderCell scope="col">Human label ↓ · judge label →</Table.ColumnHeaderCell>
          {labels.map((l) => (
            <Table.ColumnHeaderCell key={l} scope="col">
              judge: {l}
            </Table.ColumnHeaderCell>
          ))}
          <Table.ColumnHeaderCell scope="col">total</Table.ColumnHeaderCell>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {labels.map((human, i) => (
          <Table.Row key={human}>
            <Table.RowHeaderCell scope="row">human: {human}</Table.RowHeaderCell>
            {counts[i]!.map((c, j) => (
              <Table.Cell
                key={labels[j]}
                data-testid={`confusion-${human}-${labels[j]}`}
                style={{ fontWeight: i === j ? 700 : 400, background: i !== j && c > 0 ? 'var(--red-3)' : undefined }}
              >
                {c}
                {i === j ? ' (agree)' : ''}
              </Table.Cell>
            ))}
            <Table.Cell>{total(counts[i]!)}</Table.Cell>
          </Table.Row>
        ))}
        <Table.Row>
          <Table.RowHeaderCell scope="row">total</Table.RowHeaderCell>
          {labels.map((l, j) => (
            <Table.Cell key={l}>{total(counts.map((row) => row[j]!))}</Table.Cell>
          ))}
          <Table.Cell>{total(counts.flat())}</Table.Cell>
        </Table.Row>
      </Table.Body>
    </Table.Root>
  );
}

const usage = (u: UsageView) =>
  `${u.targetTokens.toLocaleString('en')} target tokens, ${u.judgeTokens.toLocaleString('en')} judge tokens, ${u.judgeCalls} judge calls, cost ${u.costUsd === null ? 'n/a (no model)' : `$${u.costUsd.toFixed(4)}`}`;

/** Eval reports per suite and manifest, newest first, each metric with its interval. */
export function EvalsPage() {
  const [list, setList] = useState<EvalList | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<EvalList>('/api/evals').then(setList, (e: Error) => setError(e.message));
  }, []);
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Evals
      </Heading>
      <Text as="p" size="2">
        Signed eval reports of this home, verified. Intervals are 95% (Wilson); a gate reads the lower bound.
      </Text>
      {error && (
        <Callout.Root color="red" highContrast role="alert">
          <Callout.Text>{error}</Callout.Text>
        </Callout.Root>
      )}
      {list?.unverified.map((u) => (
        <Callout.Root key={u.file} color="red" highContrast role="alert">
          <Callout.Text>
            {u.file} does not verify: {u.error}
          </Callout.Text>
        </Callout.Root>
      ))}
      <Table.Root variant="surface" aria-label="Eval reports">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Suite</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Manifests</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Verdict</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Metrics</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Baseline</Table.ColumnHeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {list?.reports.map((r) => (
            <Table.Row key={r.id}>
              <Table.Cell>
                <Link href={`/evals/reports/${r.id}`}>{r.suite}</Link>
                <Text as="div" size="1">
                  {r.startedAt}
                </Text>
              </Table.Cell>
              <Table.Cell>{r.manifests.map((m) => m.agent).join(', ') || '(dataset)'}</Table.Cell>
              <Table.Cell>
                <Badge color={r.verdict === 'pass' ? 'green' : 'red'} highContrast>
                  {r.verdict}
                </Badge>
              </Table.Cell>
              <Table.Cell>
                {r.metrics.map((m) => (
                  <Flex key={m.name} gap="2" align="center">
                    <Text size="1" style={{ minWidth: 140 }}>
                      {m.name}
                    </Text>
                    <Interval m={m} />
                  </Flex>
                ))}
              </Table.Cell>
              <Table.Cell>
                {r.baseline ? `${r.baseline.regressions} regressions, ${r.baseline.improvements} improvements` : 'none'}
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Flex>
  );
}

/** One report: metrics and thresholds, the baseline's per-case changes, the judge's calibration, usage and cost, failing cases. */
export function EvalReportPage({ params }: PageProps) {
  const [r, setR] = useState<EvalReportView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<EvalReportView>(`/api/evals/reports/${encodeURIComponent(params.id!)}`).then(setR, (e: Error) => setError(e.message));
  }, [params.id]);
  if (error)
    return (
      <Callout.Root color="red" highContrast role="alert">
        <Callout.Text>{error}</Callout.Text>
      </Callout.Root>
    );
  if (!r) return <Text>Loading…</Text>;
  const cal = r.judge?.calibration;
  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Eval report: {r.suite.name}
      </Heading>
      <Text size="2">
        {r.suite.description} · {r.caseCount} cases × {r.suite.repeats} · target {r.target.id} · {r.startedAt} · verdict{' '}
        <Badge color={r.verdict === 'pass' ? 'green' : 'red'} highContrast>
          {r.verdict}
        </Badge>
      </Text>
      <Table.Root variant="surface" aria-label="Metrics">
        <Table.Body>
          {r.metrics.map((m) => (
            <Table.Row key={m.name}>
              <Table.RowHeaderCell>{m.name}</Table.RowHeaderCell>
              <Table.Cell>
                <Interval m={m} />
              </Table.Cell>
              <Table.Cell>
                {r.thresholds
                  .filter((t) => t.metric === m.name)
                  .map((t) => `${t.verdict}: ${t.reason}`)
                  .join('; ')}
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      <Heading as="h3" size="4">
        Baseline comparison
      </Heading>
      {r.baseline ? (
        <>
          <Text size="2">
            Against {r.baseline.reportFile}: {r.baseline.regressions.length} regressions, {r.baseline.improvements} improvements
            {r.baseline.datasetChanged ? ' (the dataset changed)' : ''}.
          </Text>
          <Table.Root variant="surface" aria-label="Per-case changes">
            <Table.Body>
              {r.baseline.regressions.map((g) => (
                <Table.Row key={`${g.id}-${g.metric}`}>
                  <Table.Cell>{g.id}</Table.Cell>
                  <Table.Cell>{g.metric}</Table.Cell>
                  <Table.Cell>
                    {g.baseline} → {g.current}
                  </Table.Cell>
                  <Table.Cell>{g.reason}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        </>
      ) : (
        <Text size="2">This run had no baseline (charter evals run --baseline REPORT).</Text>
      )}
      <Heading as="h3" size="4">
        Judge calibration
      </Heading>
      {!r.judge ? (
        <Text size="2">No LLM judge in this suite.</Text>
      ) : cal ? (
        <>
          <Text size="2">
            Cohen&apos;s kappa {cal.kappa.toFixed(3)} [{cal.kappaLow.toFixed(3)}, {cal.kappaHigh.toFixed(3)}] (minimum {cal.minKappa}),
            accuracy {cal.accuracy.toFixed(3)} over {cal.n} labelled cases; disagreements (expected → judged):{' '}
            {cal.disagreements.map((d) => `${d.id}: ${d.expected} → ${d.judged}`).join('; ') || 'none'}.
          </Text>
          <ConfusionMatrix cal={cal} />
        </>
      ) : (
        <Text size="2">The judge is not calibrated: {r.judge.note ?? 'no calibration'}.</Text>
      )}
      <Heading as="h3" size="4">
        Cost and usage
      </Heading>
      <Text size="2">
        {usage(r.usage)}; {r.durationMs.toLocaleString('en')} ms.
      </Text>
      <Heading as="h3" size="4">
        Cases that did not pass ({r.failing.length})
      </Heading>
      {r.failing.length === 0 && <Text size="2">Every case passed.</Text>}
      {r.failing.length > 0 && (
        <Table.Root variant="surface" aria-label="Cases that did not pass">
          <Table.Body>
            {r.failing.map((c) => (
              <Table.Row key={`${c.id}-${c.repeat}`}>
                <Table.Cell>{c.id}</Table.Cell>
                <Table.Cell>
                  {Object.entries(c.scores)
                    .filter(([, s]) => !s.pass)
                    .map(([k, s]) => `${k}: ${s.reason}`)
                    .join('; ')}
                  {c.error ? ` (error: ${c.error})` : ''}
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      )}
    </Flex>
  );
}
