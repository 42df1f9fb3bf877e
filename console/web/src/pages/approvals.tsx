import { Badge, Button, Callout, Code, Flex, Heading, Table, Text, TextField } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { ApprovalView } from '../../../pages-types.js';
import { apiGet, apiPost } from '../api.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { KeyPanel, signedAct, useSigningKey } from '../signing-key.js';
import { shownRequest } from '../statement.js';
import type { PageProps } from './index.js';

/** Time left as the approver reads it: "3 h 12 min", "45 s", "expired". */
export function timeLeft(expiresAt: string, now: number): string {
  const s = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (s <= 0) return 'expired';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

const STATUS_COLOR = { pending: 'amber', approved: 'green', denied: 'red', expired: 'gray' } as const;

/** One pending request's actions: approve, or deny with a reason, each signed here with the held key. */
function Actions({ r, onDone }: { r: ApprovalView; onDone: (message: string, ok: boolean) => void }) {
  const key = useSigningKey();
  const session = useSession();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const act = async (decision: 'approve' | 'deny'): Promise<void> => {
    if (!key) return;
    setBusy(true);
    try {
      // What the statements must say: this row's request, the button clicked, the reason typed, you.
      const intent = { act: 'approval' as const, decision, reason: reason.trim(), signer: session.name, request: shownRequest(r) };
      const done = await signedAct<ApprovalView>(
        apiPost(`/api/approvals/${r.id}/act`, { decision, reason, keyId: key.keyId }),
        key,
        intent,
      );
      onDone(
        `${decision === 'approve' ? 'Approved' : 'Denied'} ${r.tool} for ${r.tenant}: the request is now ${done.status} (${done.approvals.length}/${done.required} approvals).`,
        true,
      );
    } catch (err) {
      onDone((err as Error).message, false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Flex gap="2" align="center" wrap="wrap">
      <Button
        size="1"
        disabled={!key || busy}
        onClick={() => void act('approve')}
        aria-label={`Approve ${r.tool} for ${r.tenant} (request ${r.id})`}
      >
        Approve
      </Button>
      <TextField.Root
        size="1"
        placeholder="reason to deny"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        aria-label={`Reason to deny request ${r.id}`}
      />
      <Button
        size="1"
        color="red"
        variant="soft"
        disabled={!key || busy || !reason.trim()}
        onClick={() => void act('deny')}
        aria-label={`Deny request ${r.id}`}
      >
        Deny
      </Button>
    </Flex>
  );
}

/** The approval queue (and one request at /approvals/:id): what is asked, with its arguments and the time left. */
export function ApprovalsPage({ params }: PageProps) {
  const session = useSession();
  const now = useNow();
  const [requests, setRequests] = useState<ApprovalView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ message: string; ok: boolean } | null>(null);
  const load = (): void => {
    apiGet<{ requests: ApprovalView[] }>('/api/approvals').then(
      (b) => setRequests(b.requests),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  const shown = (requests ?? []).filter((r) => !params.id || r.id === params.id);
  const pending = shown.filter((r) => r.status === 'pending');
  const decided = shown.filter((r) => r.status !== 'pending');
  const canAct = session.role === 'approver';

  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Approvals
      </Heading>
      <Text as="p" size="2">
        Tool calls waiting for a person{session.tenant ? ` (tenant ${session.tenant})` : ''}. The packs decide who may approve each one
        (tenant, spend limit, role in approvers.yaml); the requester never approves their own call, and a critical call needs two people.
      </Text>
      {canAct && <KeyPanel purpose="An approval or a denial" />}
      {outcome && (
        <Callout.Root color={outcome.ok ? 'green' : 'red'} highContrast role={outcome.ok ? 'status' : 'alert'}>
          <Callout.Text>{outcome.message}</Callout.Text>
        </Callout.Root>
      )}
      {error && (
        <Callout.Root color="red" highContrast role="alert">
          <Callout.Text>{error}</Callout.Text>
        </Callout.Root>
      )}
      {params.id && requests && shown.length === 0 && <Text>No approval request {params.id}.</Text>}
      <Heading as="h3" size="4">
        Pending ({pending.length})
      </Heading>
      <Table.Root variant="surface" aria-label="Pending approval requests">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Tenant</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Agent</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Tool</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Arguments</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Approvals</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Time left</Table.ColumnHeaderCell>
            {canAct && <Table.ColumnHeaderCell>Decide</Table.ColumnHeaderCell>}
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {pending.map((r) => (
            <Table.Row key={r.id} data-testid={`request-${r.id}`}>
              <Table.Cell>{r.tenant}</Table.Cell>
              <Table.Cell>{r.agent}</Table.Cell>
              <Table.Cell>
                <Link href={`/approvals/${r.id}`}>{r.tool}</Link>{' '}
                <Badge color="orange" highContrast>
                  {r.tier}
                </Badge>
                <Text as="div" size="1">
                  requested by {r.requestedBy}
                </Text>
              </Table.Cell>
              <Table.Cell>
                <Code size="1" style={{ whiteSpace: 'pre-wrap' }}>
                  {JSON.stringify(r.args, null, 1)}
                </Code>
              </Table.Cell>
              <Table.Cell>
                {r.approvals.length}/{r.required} {r.approvals.map((a) => a.approver).join(', ')}
              </Table.Cell>
              <Table.Cell>{timeLeft(r.expiresAt, now)}</Table.Cell>
              {canAct && (
                <Table.Cell>
                  <Actions
                    r={r}
                    onDone={(message, ok) => {
                      setOutcome({ message, ok });
                      load();
                    }}
                  />
                </Table.Cell>
              )}
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      {requests && pending.length === 0 && <Text size="2">Nothing is waiting.</Text>}
      <Heading as="h3" size="4">
        Decided and expired ({decided.length})
      </Heading>
      <Table.Root variant="surface" aria-label="Decided approval requests">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Tenant / agent</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Tool</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Requested</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Who</Table.ColumnHeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {decided.map((r) => (
            <Table.Row key={r.id}>
              <Table.Cell>
                <Badge color={STATUS_COLOR[r.status]} highContrast>
                  {r.status}
                </Badge>
              </Table.Cell>
              <Table.Cell>
                {r.tenant} / {r.agent}
              </Table.Cell>
              <Table.Cell>
                <Link href={`/approvals/${r.id}`}>{r.tool}</Link>
              </Table.Cell>
              <Table.Cell>{r.requestedAt}</Table.Cell>
              <Table.Cell>
                {[
                  ...r.approvals.map((a) => `approved by ${a.approver} at ${a.at}`),
                  ...r.denials.map((d) => `denied by ${d.approver}: ${d.reason}`),
                ].join('; ')}
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Flex>
  );
}
