import { Badge, Button, Callout, Flex, Heading, Table, Text, TextField } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { KillSwitchesView, SwitchRow } from '../../../pages-types.js';
import { apiGet, apiPost } from '../api.js';
import { useSession } from '../session.js';
import { KeyPanel, signedAct, useSigningKey } from '../signing-key.js';

/** Kill switches: what is engaged, the history from the trail, engage (security) and release (a signed approval). */
export function KillSwitchesPage() {
  const session = useSession();
  const key = useSigningKey();
  const [view, setView] = useState<KillSwitchesView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ message: string; ok: boolean } | null>(null);
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [releaseReason, setReleaseReason] = useState('');
  const load = (): void => {
    apiGet<KillSwitchesView>('/api/killswitches').then(setView, (e: Error) => setError(e.message));
  };
  useEffect(load, []);

  const change = async (
    verb: 'engage' | 'release',
    kind: 'tenant' | 'agent',
    id: string,
    why: string,
    engaged?: { by: string; at: string; reason: string },
  ): Promise<void> => {
    if (!key) return;
    // What the statement must say: this switch, this action, the reason typed, you (and for a release, the engagement shown).
    const intent = {
      act: 'kill-switch' as const,
      action: verb,
      kind,
      id,
      reason: why.trim(),
      signer: session.name,
      ...(engaged ? { engaged } : {}),
    };
    try {
      await signedAct(apiPost(`/api/killswitches/${verb}`, { [kind]: id, reason: why, keyId: key.keyId }), key, intent);
      setOutcome({
        message: `Kill switch of ${kind} ${id} ${verb === 'engage' ? 'engaged' : 'released'}; the signed evidence is queued for the trail.`,
        ok: true,
      });
      setReason('');
      setReleaseReason('');
    } catch (err) {
      setOutcome({ message: (err as Error).message, ok: false });
    }
    load();
  };
  const [kind, id] = target.split(':') as ['tenant' | 'agent', string];
  const mayEngage = session.role === 'security';
  const mayRelease = session.role === 'security' || session.role === 'approver';

  return (
    <Flex direction="column" gap="4">
      <Heading as="h2" size="6">
        Kill switches
      </Heading>
      <Text as="p" size="2">
        An engaged switch denies every tool call of its tenant or agent from the gateway&apos;s next decision. Engaging is signed with your
        operator or approval key; releasing needs your approval key, as with <code>charter killswitch</code>.
      </Text>
      {(mayEngage || mayRelease) && <KeyPanel purpose="A kill-switch change" />}
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
      <Heading as="h3" size="4">
        Engaged ({view?.engaged.length ?? 0})
      </Heading>
      <Table.Root variant="surface" aria-label="Engaged kill switches">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>Switch</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Since</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>By</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>Why</Table.ColumnHeaderCell>
            {mayRelease && <Table.ColumnHeaderCell>Release</Table.ColumnHeaderCell>}
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {view?.engaged.map((s: SwitchRow) => (
            <Table.Row key={`${s.kind}:${s.id}`}>
              <Table.Cell>
                <Badge color="red" highContrast>
                  {s.kind} {s.id}
                </Badge>
              </Table.Cell>
              <Table.Cell>{s.at}</Table.Cell>
              <Table.Cell>{s.by}</Table.Cell>
              <Table.Cell>{s.reason}</Table.Cell>
              {mayRelease && (
                <Table.Cell>
                  <Flex gap="2">
                    <TextField.Root
                      size="1"
                      placeholder="why"
                      value={releaseReason}
                      onChange={(e) => setReleaseReason(e.target.value)}
                      aria-label={`Reason to release ${s.kind} ${s.id}`}
                    />
                    <Button
                      size="1"
                      disabled={!key || !releaseReason.trim()}
                      onClick={() => void change('release', s.kind, s.id, releaseReason, { by: s.by, at: s.at, reason: s.reason })}
                    >
                      Release
                    </Button>
                  </Flex>
                </Table.Cell>
              )}
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      {view && view.engaged.length === 0 && <Text size="2">No switch is engaged.</Text>}
      {mayEngage && view && (
        <form
          aria-label="Engage a kill switch"
          onSubmit={(e) => {
            e.preventDefault();
            void change('engage', kind, id, reason);
          }}
        >
          <Flex gap="3" align="end" wrap="wrap">
            <div>
              <Text as="label" size="1" weight="bold" htmlFor="switch-target">
                Tenant or agent
              </Text>
              <select
                id="switch-target"
                value={target}
                onChange={(e) => setTarget(e.target.value)}
                style={{ display: 'block', minHeight: 32 }}
              >
                <option value="">choose…</option>
                {view.tenants.map((t) => (
                  <option key={`t${t}`} value={`tenant:${t}`}>
                    tenant {t}
                  </option>
                ))}
                {!session.tenant &&
                  view.agents.map((a) => (
                    <option key={`a${a}`} value={`agent:${a}`}>
                      agent {a}
                    </option>
                  ))}
              </select>
            </div>
            <div style={{ flex: 1, minWidth: 240 }}>
              <Text as="label" size="1" weight="bold" htmlFor="switch-reason">
                Why (recorded in the trail)
              </Text>
              <TextField.Root id="switch-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
            <Button color="red" type="submit" disabled={!key || !target || !reason.trim()}>
              Engage
            </Button>
          </Flex>
        </form>
      )}
      <Heading as="h3" size="4">
        History (from the trail)
      </Heading>
      <Table.Root variant="surface" aria-label="Kill switch history">
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeaderCell>When</Table.ColumnHeaderCell>
            <Table.ColumnHeaderCell>What</Table.ColumnHeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {view?.history.map((h) => (
            <Table.Row key={h.id}>
              <Table.Cell>{h.time}</Table.Cell>
              <Table.Cell>{h.summary}</Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
      {view && view.history.length === 0 && (
        <Text size="2">No change has reached the trail yet (the gateway appends queued evidence).</Text>
      )}
    </Flex>
  );
}
