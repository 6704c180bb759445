import Table from 'cli-table3';

/** Compact tables for the CLI: a rule under the header only, so long lists stay readable. */
export function table(head: string[], colWidths?: (number | null)[]): InstanceType<typeof Table> {
  return new Table({
    head,
    style: { head: [], border: [], compact: true },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', right: '', 'right-mid': '', mid: '─', 'mid-mid': ' ', middle: ' ' },
    ...(colWidths ? { colWidths, wordWrap: true } : {}),
  });
}
