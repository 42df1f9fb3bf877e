import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { procurementHome, type ProcurementHome } from './procurement-home.js';
import { startOtlpReceiver, type OtlpReceiver } from './servers/otlp.js';

/** A procurement home in a temporary folder and a local OTLP receiver (set once the file's beforeAll ran). */
export interface OtlpHome {
  dir: string;
  home: ProcurementHome;
  receiver: OtlpReceiver;
}

/** Makes the home and starts the receiver before the file's tests; stops and removes them after. */
export function otlpHome(prefix: string): OtlpHome {
  const t = { dir: mkdtempSync(join(tmpdir(), prefix)) } as OtlpHome;
  beforeAll(async () => {
    t.home = await procurementHome(t.dir);
    t.receiver = await startOtlpReceiver();
  }, 120_000);
  afterAll(async () => {
    await t.receiver?.close();
    rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}
