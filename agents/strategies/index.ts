export {
  DEFAULT_KRALJIC_THRESHOLD,
  KRALJIC_MIN_CONFIDENCE,
  KraljicInput,
  KraljicModelAnswer,
  KraljicQuadrant,
  KraljicThresholds,
  classifyKraljic,
  kraljicQuadrant,
  resolveKraljicAnswer,
  resolveThresholds,
  type KraljicClassification,
} from './kraljic.js';
export { Bid, BidConstraints, BidEvaluationInput, BidWeights, evaluateBids, type BidEvaluation } from './bid-evaluation.js';
export {
  AwardInput,
  AwardedLine,
  formatMoney,
  issueAwards,
  type AwardResult,
  type PurchaseOrder,
  type SupplierLetter,
} from './award-communications.js';
export { strategies, type Strategy } from './registry.js';
