import { AwardInput, issueAwards } from './award-communications.js';
import { BidEvaluationInput, evaluateBids } from './bid-evaluation.js';
import { KraljicInput, classifyKraljic } from './kraljic.js';
import {
  AuctionState,
  BottleneckInput,
  ComplianceCase,
  complianceSeverity,
  nextAuctionStep,
  planSpotRound,
  rankPartners,
  selectByTco,
  SpotRoundInput,
  StrategicInput,
  totalCostOfOwnership,
} from './negotiation.js';

/** A strategy as an eval target sees it: untrusted input in, output out (throws on bad input). */
export type Strategy = (input: unknown) => unknown;

const ids = (bids: ReadonlyArray<{ bidId: string }>) => bids.map((b) => b.bidId);

/**
 * Strategies by the name of the agent they belong to (the intent pack's agent name). The node-4
 * agents and compliance review decide with the same functions over the facts their tools read.
 */
export const strategies: Readonly<Record<string, Strategy>> = {
  'kraljic-classifier': (input) => classifyKraljic(KraljicInput.parse(input)),
  'bid-evaluation': (input) => evaluateBids(BidEvaluationInput.parse(input)),
  'award-communications': (input) => issueAwards(AwardInput.parse(input)),
  'spot-bidding': (input) => planSpotRound(SpotRoundInput.parse(input)),
  'leverage-auction': (input) => nextAuctionStep(AuctionState.parse(input)),
  'bottleneck-negotiation': (input) => {
    const { offers } = BottleneckInput.parse(input);
    const tcoCents = Object.fromEntries(offers.map((o) => [o.bidId, totalCostOfOwnership(o)]));
    const s = selectByTco(offers, tcoCents);
    return { termsTo: s.best?.bidId ?? null, ranked: ids(s.ranked), kept: ids(s.kept), tcoCents };
  },
  'strategic-partnership': (input) => {
    const s = rankPartners(StrategicInput.parse(input).proposals);
    return { termsTo: s.best?.bidId ?? null, shortlist: ids(s.shortlist), scores: s.scores };
  },
  'compliance-review': (input) => ({ severity: complianceSeverity(ComplianceCase.parse(input).trigger) }),
};
