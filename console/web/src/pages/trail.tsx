import { Badge, Box, Button, Callout, Flex, Heading, Table, Text, TextField } from '@radix-ui/themes';
import { useEffect, useState, type FormEvent } from 'react';
import type { TrailFilter, TrailPage as Page } from '../../../api-types.js';
import { apiGet, apiPost, queryString } from '../api.js';
import { VerifyBanner } from '../banner.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import type { PageProps } from './index.js';

const FIELDS: Array<{ key: Exclude<keyof TrailFilter, 'cursor'>; label: string; placeholder: string }> = [
  { key: 'tenant', label: 'Tenant', placeholder: 'acme' },
  { key: 'agent', label: 'Agent', placeholder: 'spot-bidding' },
  { key: 'tool', label: 'Tool', placeholder: 'solicit_spot_bids' },
  { key: 'tier', label: 'Tier', placeholder: 'read, write-low, write-high, critical' },
  { key: 'decision', label: 'Decision', placeholder: 'allow or deny' },
  { key: 'kind', label: 'Kind', placeholder: 'decision or evidence' },
  { key: 'manifest', label: 'Manifest digest', placeholder: 'sha256:…' },
  { key: 'trace', label: 'Trace id', placeholder: 'trace id' },
  { key: 'from', label: 'From (inclusive)', placeholder: '2026-12-01T00:00Z' },
  { key: 'to', label: 'To (exclusive)', placeholder: '2026-12-02T00:00Z' },
];

const filterOf = (search: string): TrailFilter => Object.fromEntries(new URLSearchParams(search)) as TrailFilter;

/** The trail: filters in the URL (a filtered view is a link), newest first, keyset pages. */
export function TrailPage({ search }: PageProps) {
  const filter = filterOf(search);
  const session = useSession();
  const exportTenant = filter.tenant ?? session.tenant ?? undefined;
  const [draft, setDraft] = useState<TrailFilter>(filter);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exported, setExported] = useState<string | null>(null);

  useEffect(() => {
    setDraft(filterOf(search));
    setPage(null);
    setError(null);
    apiGet<Page>(`/api/trail${search}`).then(setPage, (e: Error) => setError(e.message));
  }, [search]);

  const apply = (e: FormEvent): void => {
    e.preventDefault();
    const { cursor: _c, ...rest } = draft;
    navigate(`/trail${queryString(rest as Record<string, string>)}`);
  };

  const exportBundle = async (): Promise<void> => {
    setExported(null);
    try {
      const res = await apiPost('/api/trail/export', { tenant: exportTenant, from: filter.from, to: filter.to });
      const blob = await res.blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `evidence-${exportTenant}.json`;
      a.click();
      setExported(
        `Evidence bundle for ${exportTenant} downloaded (${blob.size.toLocaleString('en')} bytes): check it offline with charter audit verify --bundle.`,
      );
    } catch (err) {
      setExported(`Export failed: ${(err as Error).message}`);
    }
  };

  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Trail
      </Heading>
      <Text as="p" size="2">
        Every tool decision and piece of evidence, newest first{session.tenant ? ` (tenant ${session.tenant})` : ''}. Open a record to check
        its inclusion proof in this browser.
      </Text>
      <VerifyBanner />
      <form onSubmit={apply} aria-label="Filter the trail">
        <Flex wrap="wrap" gap="3" align="end">
          {FIELDS.map((f) => (
            <Box key={f.key} style={{ width: 210 }}>
              <Text as="label" size="1" weight="bold" htmlFor={`f-${f.key}`}>
                {f.label}
              </Text>
              <TextField.Root
                id={`f-${f.key}`}
                size="1"
                placeholder={f.placeholder}
                value={draft[f.key] ?? ''}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              />
            </Box>
          ))}
          <Button type="submit" size="2">
            Apply filters
          </Button>
          <Button type="button" size="2" variant="soft" onClick={() => navigate('/trail')}>
            Clear
          </Button>
        </Flex>
      </form>
      <Flex gap="3" align="center">
        <Button type="button" variant="outline" disabled={!exportTenant} onClick={() => void exportBundle()}>
          Export evidence bundle
        </Button>
        <Text size="2">
          {exportTenant
            ? `for tenant ${exportTenant}${filter.from ? ` from ${filter.from}` : ''}${filter.to ? ` to ${filter.to}` : ''}`
            : 'filter by a tenant (and a period) to export its evidence bundle'}
        </Text>
      </Flex>
      {exported && (
        <Callout.Root highContrast color={exported.startsWith('Export failed') ? 'red' : 'green'} role="status">
          <Callout.Text>{exported}</Callout.Text>
        </Callout.Root>
      )}
      {error && (
        <Callout.Root highContrast color="red" role="alert">
          <Callout.Text>{error}</Callout.Text>
        </Callout.Root>
      )}
      {!page && !error && <Text>Loading…</Text>}
      {page && (
        <>
          <Table.Root size="1" variant="surface">
            <Table.Header>
              <Table.Row>
                {['Time', 'Seq', 'Tenant', 'Agent', 'Tool', 'Tier', 'Decision', 'Summary'].map((h) => (
                  <Table.ColumnHeaderCell key={h}>{h}</Table.ColumnHeaderCell>
                ))}
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {page.rows.map((r) => (
                <Table.Row key={r.id}>
                  <Table.Cell>
                    <Link href={`/trail/records/${r.id}`}>{r.time.replace('T', ' ').slice(0, 19)}</Link>
                  </Table.Cell>
                  <Table.Cell>{r.seq}</Table.Cell>
                  <Table.Cell>{r.tenant ?? '—'}</Table.Cell>
                  <Table.Cell>{r.agent ?? '—'}</Table.Cell>
                  <Table.Cell>{r.tool ?? (r.evidenceType ? `evidence: ${r.evidenceType}` : '—')}</Table.Cell>
                  <Table.Cell>{r.tier ?? '—'}</Table.Cell>
                  <Table.Cell>{r.decision ? <Badge color={r.decision === 'deny' ? 'red' : 'green'}>{r.decision}</Badge> : '—'}</Table.Cell>
                  <Table.Cell style={{ maxWidth: 380, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                    {r.summary}
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
          <Flex gap="3" align="center">
            <Text size="2" data-testid="page-info">
              {page.rows.length === 0 ? 'No records match.' : `${page.rows.length} records`} · {Math.round(page.elapsedMs)} ms
            </Text>
            {filter.cursor && (
              <Button variant="soft" onClick={() => history.back()}>
                Previous page
              </Button>
            )}
            {page.next && (
              <Button
                variant="soft"
                onClick={() => navigate(`/trail${queryString({ ...filter, cursor: page.next! } as Record<string, string>)}`)}
              >
                Next page
              </Button>
            )}
          </Flex>
        </>
      )}
    </Flex>
  );
}
