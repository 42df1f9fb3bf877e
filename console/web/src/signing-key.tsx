import { Badge, Box, Button, Callout, Card, Flex, Text, TextArea } from '@radix-ui/themes';
import { useState, useSyncExternalStore, type ChangeEvent } from 'react';
import { apiPost } from './api.js';
import { actSigner, importApproverKey, type BrowserKey, type SigningAsk } from './signing.js';
import type { Intent } from './statement.js';

/**
 * The signed-in person's private key, held in this tab's memory only (a non-extractable
 * WebCrypto key): never stored, never sent. Reloading the page forgets it.
 */
let held: BrowserKey | null = null;
const listeners = new Set<() => void>();
const setHeld = (k: BrowserKey | null): void => {
  held = k;
  listeners.forEach((l) => l());
};
export const useSigningKey = (): BrowserKey | null =>
  useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => held,
  );

type Step<T> = { session: string; ask: SigningAsk } | { session: string; done: T };

/**
 * Runs an act the server carries out step by step: each statement it asks to sign is checked
 * field by field against `intent` (what the page shows the user chose) and signed here with the
 * held key, until the act is done; a statement that differs is refused and nothing is signed.
 */
export async function signedAct<T>(start: Promise<Response>, key: BrowserKey, intent: Intent): Promise<T> {
  const sign = actSigner(key, intent);
  let step = (await (await start).json()) as Step<T>;
  while ('ask' in step) {
    const value = await sign(step.ask);
    step = (await (await apiPost(`/api/signing/${step.session}`, { value })).json()) as Step<T>;
  }
  return step.done;
}

/** Where the user loads their key: a file (the PEM `charter keys generate` wrote) or a pasted PEM or JWK. */
export function KeyPanel({ purpose }: { purpose: string }) {
  const key = useSigningKey();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const load = async (source: string): Promise<void> => {
    setError(null);
    try {
      setHeld(await importApproverKey(source));
      setText('');
    } catch (err) {
      setError(`This is not a usable key: ${(err as Error).message}`);
    }
  };
  const onFile = (e: ChangeEvent<HTMLInputElement>): void => {
    const file = e.target.files?.[0];
    if (file) void file.text().then(load);
    e.target.value = '';
  };
  return (
    <Card>
      <Flex direction="column" gap="2">
        <Text as="p" size="2" weight="bold">
          Your signing key
        </Text>
        {key ? (
          <Flex gap="3" align="center">
            <Badge color="green" highContrast>
              key {key.keyId.slice(0, 16)}… loaded
            </Badge>
            <Text size="2">Held in this tab only; it signs here and is never sent.</Text>
            <Button size="1" variant="soft" onClick={() => setHeld(null)}>
              Forget key
            </Button>
          </Flex>
        ) : (
          <>
            <Text as="p" size="2">
              {purpose} is signed in this browser with your own Ed25519 key, the one the trusted-keys file names you by (
              <code>charter keys generate</code> wrote it). The key stays in this tab and is never sent to the server.
            </Text>
            <Flex gap="3" align="end" wrap="wrap">
              <Box>
                <Text as="label" size="1" weight="bold" htmlFor="key-file">
                  Key file (PKCS#8 PEM or JWK)
                </Text>
                <input id="key-file" type="file" accept=".pem,.json,.jwk" onChange={onFile} style={{ display: 'block' }} />
              </Box>
              <Box style={{ flex: 1, minWidth: 280 }}>
                <Text as="label" size="1" weight="bold" htmlFor="key-text">
                  Or paste the key
                </Text>
                <TextArea
                  id="key-text"
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                  placeholder="-----BEGIN PRIVATE KEY-----"
                  rows={2}
                />
              </Box>
              <Button disabled={!text.trim()} onClick={() => void load(text)}>
                Use this key
              </Button>
            </Flex>
          </>
        )}
        {error && (
          <Callout.Root color="red" highContrast role="alert">
            <Callout.Text>{error}</Callout.Text>
          </Callout.Root>
        )}
      </Flex>
    </Card>
  );
}
