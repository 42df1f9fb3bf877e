import { AwardInput, issueAwards } from './award-communications.js';
import { BidEvaluationInput, evaluateBids } from './bid-evaluation.js';
import { KraljicInput, classifyKraljic } from './kraljic.js';

/** A strategy as an eval target sees it: untrusted input in, output out (throws on bad input). */
export type Strategy = (input: unknown) => unknown;

/** Strategies by the name of the agent they belong to (the intent pack's agent name). */
export const strategies: Readonly<Record<string, Strategy>> = {
  'kraljic-classifier': (input) => classifyKraljic(KraljicInput.parse(input)),
  'bid-evaluation': (input) => evaluateBids(BidEvaluationInput.parse(input)),
  'award-communications': (input) => issueAwards(AwardInput.parse(input)),
};
