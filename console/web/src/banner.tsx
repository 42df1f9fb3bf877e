import { Callout, Code } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { TrailStatus } from '../../api-types.js';
import { apiGet } from './api.js';

/** The trail's verification status (audit verify on the server, through the audit entry point): green, or red naming what failed. */
export function VerifyBanner() {
  const [status, setStatus] = useState<TrailStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiGet<TrailStatus>('/api/trail/status').then(setStatus, (e: Error) => setError(e.message));
  }, []);

  if (error)
    return (
      <Callout.Root highContrast color="red" role="status" data-testid="verify-banner" data-state="error">
        <Callout.Text>The trail could not be verified: {error}</Callout.Text>
      </Callout.Root>
    );
  if (!status)
    return (
      <Callout.Root highContrast color="gray" role="status" data-testid="verify-banner" data-state="checking">
        <Callout.Text>Verifying the trail…</Callout.Text>
      </Callout.Root>
    );
  if (status.failing.length > 0)
    return (
      <Callout.Root highContrast color="red" role="status" data-testid="verify-banner" data-state="failed">
        <Callout.Text>
          <strong>Trail verification FAILED</strong>: {status.findings} finding{status.findings === 1 ? '' : 's'} in{' '}
          {status.failing.map((f, i) => (
            <span key={f.key}>
              {i > 0 && ', '}
              <Code highContrast>{f.key}</Code> ({f.kinds.join(', ')})
            </span>
          ))}
          . Run <Code highContrast>charter audit verify</Code> for the details.
        </Callout.Text>
      </Callout.Root>
    );
  if (!status.trusted)
    return (
      <Callout.Root highContrast color="amber" role="status" data-testid="verify-banner" data-state="untrusted">
        <Callout.Text>
          <strong>UNTRUSTED</strong>: the trail verifies with the writer&apos;s own keys, which prove nothing against whoever can write the
          home ({status.untrustedReason}).
        </Callout.Text>
      </Callout.Root>
    );
  return (
    <Callout.Root highContrast color="green" role="status" data-testid="verify-banner" data-state="verified">
      <Callout.Text>
        <strong>Trail verified</strong>: {status.treeSize.toLocaleString('en')} records, chain, Merkle roots and signed checkpoints (checked{' '}
        {new Date(status.checkedAt).toLocaleTimeString('en-GB')}).
      </Callout.Text>
    </Callout.Root>
  );
}
