import { Box, Button, Callout, Card, Code, Flex, Heading, Text, TextArea } from '@radix-ui/themes';
import { useState, type FormEvent } from 'react';
import type { SessionInfo } from '../../../api-types.js';
import { apiGet, token } from '../api.js';

/** The first screen: paste a token (from `charter console token` or your identity provider). */
export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    token.set(value.trim());
    try {
      onSignedIn(await apiGet<SessionInfo>('/api/session'));
    } catch (err) {
      token.clear();
      setError((err as Error).message);
    }
  };

  return (
    <Card size="3" style={{ maxWidth: 640 }}>
      <form onSubmit={(e) => void submit(e)}>
        <Flex direction="column" gap="3">
          <Heading as="h2" size="5">
            Sign in
          </Heading>
          <Text as="p" size="2">
            Paste your console token. On this machine, make one with{' '}
            <Code highContrast>charter console token --as NAME --role auditor [--tenant T]</Code>; in production it comes from your identity
            provider. It stays in this tab only.
          </Text>
          <Box>
            <Text as="label" htmlFor="token" size="2" weight="bold">
              Token
            </Text>
            <TextArea id="token" value={value} onChange={(e) => setValue(e.target.value)} rows={4} required spellCheck={false} />
          </Box>
          {error && (
            <Callout.Root highContrast color="red" role="alert">
              <Callout.Text>{error}</Callout.Text>
            </Callout.Root>
          )}
          <Box>
            <Button type="submit">Sign in</Button>
          </Box>
        </Flex>
      </form>
    </Card>
  );
}
