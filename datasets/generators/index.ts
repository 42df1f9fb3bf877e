import { awardCommunications } from './award-communications.js';
import { bidEvaluation } from './bid-evaluation.js';
import type { DatasetGenerator } from './generator.js';
import { kraljicClassification } from './kraljic-classification.js';
import {
  bottleneckNegotiationRegression,
  complianceReviewRegression,
  leverageAuctionRegression,
  spotBiddingRegression,
  strategicPartnershipRegression,
} from './negotiation.js';
import { toolCallSafety } from './tool-call-safety.js';

export type { DatasetGenerator } from './generator.js';
export { AWARD_RUBRIC } from './award-communications.js';
export { inputSchema } from './negotiation.js';

export const generators: Readonly<Record<string, DatasetGenerator>> = Object.fromEntries(
  [
    kraljicClassification,
    bidEvaluation,
    toolCallSafety,
    awardCommunications,
    spotBiddingRegression,
    leverageAuctionRegression,
    bottleneckNegotiationRegression,
    strategicPartnershipRegression,
    complianceReviewRegression,
  ].map((g) => [g.name, g]),
);
