import type { Command } from 'commander';
import { registerCalibrate } from './calibrate.js';
import { registerExport } from './export.js';
import { registerList } from './list.js';
import { registerRun } from './run.js';
import { registerVerify } from './verify.js';

/** `charter evals <verb>`: one file per verb in this folder. */
export function registerEvals(program: Command): void {
  const evals = program
    .command('evals')
    .description('eval suites over versioned datasets: signed reports with intervals, judge calibration');
  for (const register of [registerList, registerVerify, registerExport, registerRun, registerCalibrate]) register(evals);
}
