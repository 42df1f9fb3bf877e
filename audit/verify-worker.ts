// Worker thread of verifyAuditLog: checks segments (see segment-check.ts).
import { checkSegment } from './segment-check.js';
import { serveJobs } from './serve-jobs.js';

serveJobs(checkSegment);
