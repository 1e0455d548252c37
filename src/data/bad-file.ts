/**
 * Bad files: images that cannot be used. They never stop a run; each is skipped, counted by
 * reason and listed, so that the trainer can print the summary after each epoch and log it.
 */

export const BAD_FILE_REASONS = [
  'empty', // 0 bytes (Cat/666.jpg in the Cats and Dogs archive)
  'not-an-image', // an image's name, but the content is no image format we know
  'unsupported-format', // an image, in a format this decoder cannot read (BMP in Node)
  'truncated', // the data ends before the image does
  'undecodable', // the decoder refused it for another reason
  'too-large', // dimensions or file size over the configured limit, refused before decoding
  'unreadable', // the file system refused (missing, permissions, a folder)
] as const;
export type BadFileReason = (typeof BAD_FILE_REASONS)[number];

/** The verdicts reached from the first bytes alone, worded once for every place that reaches them. */
export const EMPTY_FILE_MESSAGE = 'the file has 0 bytes';
export const NOT_AN_IMAGE_MESSAGE = 'the content is not a known image format';

export interface BadFileReport {
  path: string;
  reason: BadFileReason;
  message: string;
}

/**
 * A decoder's message on one line, each distinct line once: libvips repeats its complaint line
 * by line for a JPEG cut short in its header, which would break the one-line-per-file listing.
 */
export function oneLine(message: string): string {
  return [...new Set(message.split('\n').map((line) => line.trim()).filter((line) => line.length > 0))].join('; ');
}

/** Thrown by the decoders for a file that must be skipped; carries the report. */
export class BadImageError extends Error {
  readonly detail: string;
  constructor(
    readonly path: string,
    readonly reason: BadFileReason,
    detail: string,
  ) {
    super(`${path}: ${reason}: ${oneLine(detail)}`);
    this.name = 'BadImageError';
    this.detail = oneLine(detail);
  }

  get report(): BadFileReport {
    return { path: this.path, reason: this.reason, message: this.detail };
  }
}

/** The reports collected during a pass, de-duplicated by path (a bad file is met every epoch). */
export class BadFileLog {
  private readonly byPath = new Map<string, BadFileReport>();

  add(report: BadFileReport): void {
    if (!this.byPath.has(report.path)) this.byPath.set(report.path, report);
  }

  get reports(): BadFileReport[] {
    return [...this.byPath.values()];
  }

  get size(): number {
    return this.byPath.size;
  }

  countsByReason(): Map<BadFileReason, number> {
    return countBadFilesByReason(this.reports);
  }

  /** The text the trainer prints and logs: one count line per reason, then one line per file. */
  summary(): string {
    return formatBadFiles(this.reports);
  }
}

export function countBadFilesByReason(reports: readonly BadFileReport[]): Map<BadFileReason, number> {
  const counts = new Map<BadFileReason, number>();
  for (const reason of BAD_FILE_REASONS) {
    const count = reports.filter((report) => report.reason === reason).length;
    if (count > 0) counts.set(reason, count);
  }
  return counts;
}

export function formatBadFiles(reports: readonly BadFileReport[]): string {
  if (reports.length === 0) return 'bad files: none';
  const counts = [...countBadFilesByReason(reports)].map(([reason, count]) => `${reason} ${count}`);
  const lines = [`bad files: ${reports.length} skipped (${counts.join(', ')})`];
  for (const report of reports) lines.push(`  ${report.path}: ${report.reason}: ${report.message}`);
  return lines.join('\n');
}
