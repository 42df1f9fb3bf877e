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

/** A checkpoint written from a version another run has moved past: nothing was written. */
export class CheckpointConflict extends FindingError {
  constructor(pk: string, expectedVersion: number) {
    super(`checkpoint conflict on ${pk}: expected version ${expectedVersion} (another run changed it)`);
    this.name = 'CheckpointConflict';
  }
}
