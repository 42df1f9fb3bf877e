import { Box, Button, Callout, Container, Flex, Heading, Text, Theme } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../api-types.js';
import { apiGet, onSignedOut, token } from './api.js';
import { PAGES } from './pages/index.js';
import { SignIn } from './pages/sign-in.js';
import { Link, match, navigate, useLocation } from './router.js';
import { Session } from './session.js';

/** The shell: sign-in gate, navigation of the pages this role may open, and the page of the URL. */
export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const { path, search } = useLocation();

  useEffect(() => {
    onSignedOut.handler = () => {
      token.clear();
      setSession(null);
    };
    if (!token.get()) return setSession(null);
    apiGet<SessionInfo>('/api/session').then(setSession, () => setSession(null));
  }, []);

  const mine = session ? PAGES.filter((p) => p.roles.includes(session.role)) : [];
  const found = PAGES.map((p) => ({ page: p, params: match(p.path, path) })).find((m) => m.params);

  useEffect(() => {
    if (session && (path === '/' || path === '/sign-in') && mine[0]) navigate(mine[0].path, { replace: true });
  });
  useEffect(() => {
    document.title = found ? `${found.page.title} · Charter console` : 'Charter console';
  }, [found]);

  let body;
  if (session === undefined) body = <Text>Loading…</Text>;
  else if (session === null) body = <SignIn onSignedIn={setSession} />;
  else if (!found)
    body = (
      <Callout.Root highContrast color="gray">
        <Callout.Text>No page at {path}.</Callout.Text>
      </Callout.Root>
    );
  else if (!found.page.roles.includes(session.role))
    body = (
      <Callout.Root highContrast color="amber">
        <Callout.Text>
          The {found.page.title} page is for the {found.page.roles.join(' or ')} role; you signed in as {session.role}.
        </Callout.Text>
      </Callout.Root>
    );
  else
    body = (
      <Session.Provider value={session}>
        <found.page.component params={found.params!} search={search} />
      </Session.Provider>
    );

  return (
    <Theme accentColor="indigo" grayColor="slate" radius="small">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Box asChild style={{ borderBottom: '1px solid var(--gray-6)' }}>
        <header>
          <Container size="4" px="4" py="3">
            <Flex align="center" gap="5">
              <Heading as="h1" size="4">
                Charter console
              </Heading>
              {session && (
                <nav aria-label="Pages">
                  <Flex gap="4">
                    {mine
                      .filter((p) => p.nav)
                      .map((p) => (
                        <Link key={p.path} href={p.path} aria-current={path.startsWith(p.path) ? 'page' : undefined}>
                          {p.title}
                        </Link>
                      ))}
                  </Flex>
                </nav>
              )}
              {session && (
                <Flex ml="auto" gap="3" align="center">
                  <Text size="2" data-testid="who">
                    {session.name} · {session.role} · {session.tenant ?? 'all tenants'}
                  </Text>
                  <Button size="1" variant="soft" onClick={() => onSignedOut.handler()}>
                    Sign out
                  </Button>
                </Flex>
              )}
            </Flex>
          </Container>
        </header>
      </Box>
      <Container size="4" px="4" py="4" asChild>
        <main id="main">{body}</main>
      </Container>
    </Theme>
  );
}
