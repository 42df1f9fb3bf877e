import Table from 'cli-table3';

/** Machine-readable output goes to stdout as one JSON document; human output too, diagnostics to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLine(text = ''): void {
  process.stdout.write(text + '\n');
}

type Cell = string | number | boolean | null | undefined;

/** A table as text: a header row and bordered rows, empty cells for null. */
export function tableText(head: string[], rows: Cell[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? '' : String(c))));
  return table.toString();
}

export function printTable(head: string[], rows: Cell[][]): void {
  printLine(tableText(head, rows));
}

/** With --verbose (CHARTER_VERBOSE=1): what the command is doing, on stderr. */
export function verbose(text: string): void {
  if (process.env.CHARTER_VERBOSE) process.stderr.write(`charter: ${text}\n`);
}
