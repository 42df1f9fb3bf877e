import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { contentPath, InputError } from '../common/index.js';
import type { IdentityConfig } from '../gateway/index.js';
import type { ConsoleContext } from './context.js';
import { installGuard } from './guard.js';
import { ConsoleSignIn } from './identity.js';
import { ROUTES } from './routes/index.js';

/** Where `npm run build` puts the front end (vite, console/web). */
export const WEB_ROOT = contentPath('dist', 'console-web');

export interface ConsoleAppOptions {
  context: ConsoleContext;
  identity: IdentityConfig;
  /** The built front end; default WEB_ROOT. */
  webRoot?: string;
}

/**
 * The console's HTTP app: the typed API under /api (one route module per page, each behind
 * the guard) and the built front end, with every other GET answered by index.html so a page's
 * URL can be opened directly.
 */
export async function buildConsoleApp(opts: ConsoleAppOptions): Promise<FastifyInstance> {
  const webRoot = opts.webRoot ?? WEB_ROOT;
  if (!existsSync(join(webRoot, 'index.html')))
    throw new InputError('the console front end is not built: run npm run build', { file: join(webRoot, 'index.html') });
  const app = Fastify({ logger: { level: 'warn', stream: process.stderr }, bodyLimit: 64 * 1024 });
  installGuard(app, ConsoleSignIn.fromConfig(opts.identity));
  for (const route of ROUTES) route(app, opts.context);
  await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: 'index.html' });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/') || req.method !== 'GET') return reply.code(404).send({ error: 'no such API route' });
    return reply.type('text/html').sendFile('index.html');
  });
  app.addHook('onSend', async (_req, reply) => {
    // Nothing is fetched from elsewhere at run time: the page may load only what this server serves.
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  return app;
}

export interface RunningConsole {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Serves the console on loopback (127.0.0.1) only; port 0 picks a free one. */
export async function startConsole(opts: ConsoleAppOptions & { port?: number }): Promise<RunningConsole> {
  const app = await buildConsoleApp(opts);
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    app,
    async close() {
      await app.close();
      await opts.context.access.close();
    },
  };
}
