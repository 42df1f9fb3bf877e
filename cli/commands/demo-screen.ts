import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { printLine } from '../output.js';

/** Screen lines one demo step may take, its header and the note pointing to the log included. */
export const STEP_LINES = 20;
/** Lines of a step shown as they come; the rest of the budget shows how the step ended. */
const LIVE_LINES = 8;
/** A longer line is cut on screen (a command with eight manifest paths); the log keeps it whole. */
const SCREEN_WIDTH = 140;

const fit = (line: string) => (line.length > SCREEN_WIDTH ? `${line.slice(0, SCREEN_WIDTH - 1)}…` : line);

/**
 * The demo's output: everything goes to the log file, and each step fits a screen. A step's
 * first lines are shown as they come (what it is doing), its last lines when it ends (how it
 * ended), and in between one line says how many are in the log.
 */
export class DemoScreen {
  private shown = 0;
  private hidden = 0;
  private last: string[] = [];

  constructor(
    readonly logFile: string,
    private readonly write: (line: string) => void = printLine,
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
  }

  /** Ends the step before and starts one with its header. */
  step(header: string): void {
    this.end();
    this.line(header);
  }

  /** A line of the step (or several): in the log, and on screen within the step's budget. */
  line(text: string): void {
    this.log(text);
    this.show(text);
  }

  /** Screen only, within the step's budget (what the log already has in full). */
  show(text: string): void {
    for (const l of text.split('\n')) {
      if (this.shown < LIVE_LINES) {
        this.write(fit(l));
        this.shown++;
      } else {
        this.last.push(fit(l));
        if (this.last.length > STEP_LINES - LIVE_LINES - 1) {
          this.last.shift();
          this.hidden++;
        }
      }
    }
  }

  /** Text only the log gets (a command's whole output, of which the step shows the end). */
  log(text: string): void {
    appendFileSync(this.logFile, `${text}\n`);
  }

  /** Shows how the step ended: the lines held back, after a note on those only in the log. */
  end(): void {
    if (this.hidden > 0) this.write(`  … ${this.hidden} more line(s) in ${this.logFile}`);
    for (const l of this.last) this.write(l);
    this.shown = 0;
    this.hidden = 0;
    this.last = [];
  }
}
