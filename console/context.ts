import type { FastifyInstance } from 'fastify';
import type { SegmentSink } from '../audit/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import type { AccessLog } from './access-log.js';

/** The keys the trail is checked with, and whether they come from outside the trail (console/README.md). */
export type AuditorTrust =
  { trusted: true; file: string; keys: TrustedKeysFile } | { trusted: false; reason: string; keys: TrustedKeysFile };

/** What every route module gets: the home and the domain state it reads through the entry points. */
export interface ConsoleContext {
  home: string;
  /** The home's audit store (state directory and configured sink), as `charter audit` reads it. */
  audit: { dir: string; sink: SegmentSink };
  trust: AuditorTrust;
  /** Records page views and actions in the trail (every trail page view, every action). */
  access: AccessLog;
}

/** A page's API: one module per page under console/routes/, listed in console/routes/index.ts. */
export type RouteModule = (app: FastifyInstance, ctx: ConsoleContext) => void;
