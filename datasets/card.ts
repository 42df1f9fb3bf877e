import { z } from 'zod';

/**
 * The data card kept beside every dataset version: what the data is for, how it was made,
 * what its labels mean, and the sha256 of data.jsonl so a changed file is detected.
 */
export const DataCard = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -'),
  version: z.string().regex(/^v\d+$/, 'expected v<N>'),
  purpose: z.string().min(1),
  howMade: z.string().min(1),
  /** Set for generated datasets: rerunning the generator with this seed reproduces data.jsonl byte for byte. */
  generator: z.object({ name: z.string().min(1), seed: z.number().int().nonnegative(), count: z.number().int().positive() }).nullable(),
  labels: z.string().min(1),
  labelledBy: z.enum(['rule', 'human']),
  limitations: z.string().min(1),
  cases: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits'),
});
export type DataCard = z.infer<typeof DataCard>;

/** Every line of every dataset: an id, the target's input, the expected answer, optional tags. */
export const DatasetCase = z.object({
  id: z.string().min(1),
  input: z.unknown(),
  expected: z.unknown(),
  tags: z.array(z.string()).optional(),
});
export type DatasetCase = z.infer<typeof DatasetCase>;
