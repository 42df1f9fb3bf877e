import { FindingError, readText } from '../common/index.js';
import { digestOf, parseEnvelope, verifyEnvelope, type DsseEnvelope, type TrustedKeysFile } from '../signing/index.js';
import { EVAL_REPORT_PAYLOAD_TYPE, EvalReport } from './report-schema.js';

/**
 * Reads a signed eval report and verifies it: envelope signature by a trusted key whose purpose is
 * eval-report, payload type, report schema. Light on purpose (no promptfoo, no AWS SDK): library
 * users import it through the package's `charter/verify/eval-report` export.
 */
export function loadReport(file: string, trusted: TrustedKeysFile): { report: EvalReport; digest: string; envelope: DsseEnvelope } {
  const envelope = parseEnvelope(readText(file), file);
  const { payload } = verifyEnvelope(envelope, trusted, { payloadType: EVAL_REPORT_PAYLOAD_TYPE, purpose: 'eval-report' });
  const parsed = EvalReport.safeParse(JSON.parse(payload.toString('utf8')));
  if (!parsed.success) throw new FindingError(`signed payload is not an eval report: ${parsed.error.issues[0]?.message ?? ''}`, { file });
  return { report: parsed.data, digest: digestOf(payload), envelope };
}
