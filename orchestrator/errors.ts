import { FindingError } from '../common/index.js';

/** Node 1 refused admission: the HTTP answer is 429 with Retry-After. */
export class AdmissionDenied extends FindingError {
  readonly status = 429;
  constructor(
    readonly tenantId: string,
    readonly negotiationId: string,
    readonly retryAfterSeconds: number,
    reason: string,
  ) {
    super(`429 Too Many Requests: ${reason} (Retry-After: ${retryAfterSeconds})`);
    this.name = 'AdmissionDenied';
  }
}
