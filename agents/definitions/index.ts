import type { AgentDefinition } from '../agent.js';
import { awardCommunications } from './award-communications.js';
import { bidEvaluation } from './bid-evaluation.js';
import { bottleneckNegotiation } from './bottleneck-negotiation.js';
import { complianceReview } from './compliance-review.js';
import { kraljicClassifier } from './kraljic-classifier.js';
import { leverageAuction } from './leverage-auction.js';
import { spotBidding } from './spot-bidding.js';
import { strategicPartnership } from './strategic-partnership.js';

/** The eight agents of the procurement reference, by the agent name of their intent pack. */
export const AGENT_DEFINITIONS = {
  'kraljic-classifier': kraljicClassifier,
  'spot-bidding': spotBidding,
  'leverage-auction': leverageAuction,
  'bottleneck-negotiation': bottleneckNegotiation,
  'strategic-partnership': strategicPartnership,
  'bid-evaluation': bidEvaluation,
  'award-communications': awardCommunications,
  'compliance-review': complianceReview,
} as const satisfies Record<string, Pick<AgentDefinition, 'name'>>;

export type AgentName = keyof typeof AGENT_DEFINITIONS;
export const AGENT_NAMES = Object.keys(AGENT_DEFINITIONS) as AgentName[];
