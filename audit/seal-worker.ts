// Worker thread of the writer's seals: encodes each batch (segment-encode.ts) off the event loop.
import { encodeSegment } from './segment-encode.js';
import { serveJobs } from './serve-jobs.js';

serveJobs(encodeSegment);
