import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { FindingError, InputError } from '../common/index.js';
import { publicKeyFromPem, verifyWithKey, type Signer, type TrustedKey } from '../signing/index.js';
import type { ActToken, ApproverKey } from '../gateway/index.js';

/**
 * What the browser is asked to sign: an approval or denial token (a JWT over this header and
 * these claims, signed with jose's SignJWT as the CLI does), or the DSSE pre-authentication
 * encoding of an evidence record (base64), signed as raw Ed25519.
 */
export type SigningAsk = ({ kind: 'token' } & ActToken) | { kind: 'evidence'; message: string };

export type SigningStep<T> = { session: string; ask: SigningAsk } | { session: string; done: T };

interface Pending {
  ask: SigningAsk;
  delivered: boolean;
  answer: (value: string) => void;
  fail: (err: Error) => void;
}

const ANSWER_TIMEOUT_MS = 120_000;

/**
 * One act (approve, deny, a kill-switch change) run by the domain code as it runs for the CLI,
 * with an approver whose signatures come from the browser: each signature the act needs is
 * handed to the browser as a step and the act waits for the answer, which is verified against
 * the approver's trusted public key before the act goes on. The private key never reaches the
 * server. An answer that does not verify, or none within two minutes, fails the act, and the
 * domain code writes nothing for an act that fails before its last signature.
 */
class Session<T> {
  private pending: Pending | undefined;
  private settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly user: string,
    private readonly actor: TrustedKey,
    act: (approver: ApproverKey) => Promise<T>,
  ) {
    const signer: Signer = {
      keyId: actor.keyId,
      algorithm: actor.algorithm,
      publicKey: publicKeyFromPem(actor.publicKeyPem, `trusted key ${actor.name}`),
      sign: async (data) => Buffer.from(await this.ask({ kind: 'evidence', message: Buffer.from(data).toString('base64') }), 'base64'),
    };
    const approver: ApproverKey = {
      name: actor.name,
      keyId: actor.keyId,
      signer,
      signToken: (token) => this.ask({ kind: 'token', ...token }),
    };
    act(approver).then(
      (value) => this.settle({ ok: true, value }),
      (error: unknown) => this.settle({ ok: false, error }),
    );
  }

  private settle(outcome: NonNullable<Session<T>['settled']>): void {
    this.settled = outcome;
    this.wake?.();
  }

  private ask(ask: SigningAsk): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.pending?.fail(new FindingError('the browser did not sign within two minutes')),
        ANSWER_TIMEOUT_MS,
      );
      const clear = () => {
        clearTimeout(timer);
        this.pending = undefined;
      };
      this.pending = {
        ask,
        delivered: false,
        answer: (value) => {
          clear();
          resolve(value);
        },
        fail: (err) => {
          clear();
          reject(err);
        },
      };
      this.wake?.();
    });
  }

  /** The next signature asked for, or the act's result (its error thrown). */
  next(): Promise<SigningStep<T>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.settled) {
          this.wake = undefined;
          if (this.settled.ok) resolve({ session: this.id, done: this.settled.value });
          else reject(this.settled.error instanceof Error ? this.settled.error : new Error(String(this.settled.error)));
        } else if (this.pending && !this.pending.delivered) {
          this.wake = undefined;
          this.pending.delivered = true;
          resolve({ session: this.id, ask: this.pending.ask });
        } else this.wake = check;
      };
      check();
    });
  }

  /** The browser's answer to the step it was given, verified before the act sees it; a refusal fails the act. */
  async answer(value: string): Promise<void> {
    const pending = this.pending;
    if (!pending?.delivered) throw new InputError('this signing session is not waiting for a signature', { field: 'session' });
    const problem = pending.ask.kind === 'token' ? await this.tokenProblem(pending.ask, value) : this.evidenceProblem(pending.ask, value);
    if (problem) pending.fail(new FindingError(`the browser's signature was refused: ${problem}; nothing was written`));
    else pending.answer(value);
  }

  private evidenceProblem(ask: { message: string }, value: string): string | undefined {
    const ok = verifyWithKey(this.actor, Buffer.from(ask.message, 'base64'), Buffer.from(value, 'base64'));
    return ok ? undefined : `the evidence signature does not verify with the key of '${this.actor.name}'`;
  }

  /** A token must be exactly the JWT asked for (header and claims), signed by the approver's key. */
  private async tokenProblem(ask: ActToken, value: string): Promise<string | undefined> {
    try {
      const { payload } = await compactVerify(value, publicKeyFromPem(this.actor.publicKeyPem, `trusted key ${this.actor.name}`));
      if (!isDeepStrictEqual(decodeProtectedHeader(value), ask.header)) return 'the token header is not the one asked for';
      if (!isDeepStrictEqual(JSON.parse(Buffer.from(payload).toString('utf8')), ask.claims))
        return 'the token claims are not the ones asked for';
      return undefined;
    } catch (err) {
      return `the token does not verify with the key of '${this.actor.name}' (${err instanceof Error ? err.message : String(err)})`;
    }
  }
}

/**
 * The console's signing sessions, in memory: an act started by a signed-in user is answered by
 * that user only.
 */
export class BrowserSigning {
  private readonly sessions = new Map<string, Session<unknown>>();

  /** Starts `act` for `user` with the trusted key `actor`; returns the first step. */
  start<T>(user: string, actor: TrustedKey, act: (approver: ApproverKey) => Promise<T>): Promise<SigningStep<T>> {
    if (actor.algorithm !== 'ed25519')
      throw new InputError(`key '${actor.name}' is ${actor.algorithm}: the console signs with Ed25519 keys (charter keys generate)`, {
        field: 'keyId',
      });
    const session = new Session<T>(randomUUID(), user, actor, act);
    return this.follow(session);
  }

  /** The browser's answer to a session's step; returns the next step. */
  async answer(user: string, id: string, value: string): Promise<SigningStep<unknown>> {
    const session = this.sessions.get(id);
    if (!session || session.user !== user) throw new InputError(`no signing session ${id}`, { field: 'session' });
    await session.answer(value);
    return this.follow(session);
  }

  private async follow<T>(session: Session<T>): Promise<SigningStep<T>> {
    this.sessions.set(session.id, session as Session<unknown>);
    try {
      const step = await session.next();
      if ('done' in step) this.sessions.delete(session.id);
      return step;
    } catch (err) {
      this.sessions.delete(session.id);
      throw err;
    }
  }
}

const perApp = new WeakMap<object, BrowserSigning>();

/** The signing sessions of one console app (approvals and kill switches share them). */
export function signingOf(app: object): BrowserSigning {
  let s = perApp.get(app);
  if (!s) perApp.set(app, (s = new BrowserSigning()));
  return s;
}
