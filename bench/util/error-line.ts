/** An error as one line for a report's cell: its message's first line, at most `max` characters. */
export function errorLine(e: unknown, max = 300): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, max);
}
