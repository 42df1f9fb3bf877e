/**
 * evals: suites (YAML), scorers (ground truth, code-based, LLM-as-judge), statistics with 95%
 * intervals, judge providers (Bedrock Converse, OpenAI-compatible) and their calibration, the
 * promptfoo runner, baseline comparison and signed eval reports.
 */
export { compareWithBaseline } from './baseline.js';
export { ResponseCache } from './cache.js';
export {
  CALIBRATION_PAYLOAD_TYPE,
  Calibration,
  DEFAULT_CALIBRATION_DATASET,
  calibrateJudge,
  judgeStanding,
  saveCalibration,
  type JudgeStanding,
} from './calibrate.js';
export { runEval, suiteEvidence, type EvalRunOptions, type EvalRunResult, type EvidenceSink } from './evaluate.js';
export { DEFAULT_GATEWAY_ENTITIES, gatewayTarget, scratchApprovalsDir, type GatewayTargetOptions } from './gateway-target.js';
export { modelAgentTarget } from './model-agent-target.js';
export { JudgeConfig, ModelEndpoint, costOf, judgeIdentity, loadJudgeConfig } from './judge/config.js';
export { ConverseModel, type ConverseModelOptions } from './judge/converse.js';
export {
  Judge,
  JudgeVerdict,
  chatModelFor,
  parseJsonAnswer,
  parseVerdict,
  toChatRequest,
  type GraderProvider,
  type JudgeCall,
} from './judge/grader.js';
export { JudgeError, type ChatModel, type ChatRequest, type ChatResponse, type TokenUsage } from './judge/model.js';
export { OpenAiModel, type OpenAiModelOptions } from './judge/openai.js';
export { reportMarkdown } from './markdown.js';
export { computeMetrics, perCaseValues, type Metric } from './metrics.js';
export { loadPromptfoo, promptfooEnvironment } from './promptfoo.js';
export { EVAL_REPORT_PAYLOAD_TYPE, EvalReport, type BaselineComparison } from './report-schema.js';
export { loadReport } from './report-verify.js';
export { runSuite, type CaseResult, type CaseScore, type RunOptions, type RunResult } from './run.js';
export { codeChecks } from './scorers/code-checks.js';
export { exactMatch, jsonSchemaCheck, ndcg, numericMatch, setMatch, top1 } from './scorers/ground-truth.js';
export type { ScoreResult } from './scorers/types.js';
export {
  cohenKappa,
  kappaInterval,
  mcnemarExact,
  pairedBootstrap,
  quantile,
  wilcoxonSignedRank,
  wilsonCaseMeans,
  wilsonInterval,
  type Interval,
} from './stats.js';
export { Suite, ScorerSpec, TargetSpec, ThresholdSpec, defaultSuitesDir, getField, listSuites, loadSuite } from './suite.js';
export { datasetFieldTarget, modelTarget, strategyTarget, targetFor, type Target, type TargetUsage } from './targets.js';
export { checkThresholds, pinMismatch, type EvidencePin, type Threshold, type ThresholdVerdict } from './thresholds.js';
export { toPromptfooResults } from './promptfoo-export.js';
