// Keeps the chapters true to the code and to this run:
//   - code references are links whose title names an anchor in the file,
//       [src/ops/conv.ts:31-47](../../src/ops/conv.ts#L31-L47 "export function conv2d(")
//     and get their line range recomputed from it, in the file as committed: the declaration that starts on the first line
//     containing the anchor (with its doc comment) down to its closing brace, or, with
//     "start | end", from the line containing `start` to the next line containing `end`;
//   - fragments of generated/ are spliced between `<!-- generated:NAME -->` and
//     `<!-- /generated:NAME -->`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const LINK = /\[([^\]]*)\]\(([^)\s#]+)(?:#L\d+(?:-L\d+)?)?\s+"([^"]+)"\)/g;
const MARKER = /<!-- generated:([\w-]+) -->[\s\S]*?<!-- \/generated:\1 -->/g;
const LINE_TEXT = /^[\w./-]+\.\w+:\d+(-\d+)?$/;

export interface ChapterProblem {
  chapter: string;
  problem: string;
}

/** Every Markdown file of the guide (the chapters and their translations), not the fragments. */
export function chapterFiles(guideDir: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'generated' && name !== 'figures') visit(path);
      } else if (name.endsWith('.md')) out.push(path);
    }
  };
  visit(guideDir);
  return out;
}

/** The 1-based line range [start, end] an anchor names in `lines`. */
export function locate(lines: readonly string[], anchor: string): [number, number] {
  const [startText, endText] = anchor.split(' | ');
  const i = lines.findIndex((line) => line.includes(startText!));
  if (i < 0) throw new Error(`no line contains '${startText}'`);
  if (endText) {
    const j = lines.findIndex((line, k) => k > i && line.includes(endText));
    if (j < 0) throw new Error(`no line after ${i + 1} contains '${endText}'`);
    return [i + 1, j + 1];
  }
  let start = i;
  if (lines[i - 1]?.trim().endsWith('*/')) {
    while (start > 0 && !lines[start - 1]!.trim().startsWith('/**')) start--;
    start--;
  }
  let depth = 0;
  let parens = 0;
  let opened = false;
  for (let k = i; k < lines.length; k++) {
    const text = lines[k]!.replace(/(^|\s)\/\/.*$/, '');
    for (const c of text) {
      if (c === '{') (depth++, (opened = true));
      else if (c === '}') depth--;
      else if (c === '(') parens++;
      else if (c === ')') parens--;
    }
    // A block ends where its braces close; a declaration without one (`const x = ...;`) at its `;`.
    if ((opened && depth <= 0) || (!opened && parens <= 0 && /;\s*$/.test(text))) return [start + 1, k + 1];
  }
  throw new Error(`the declaration at line ${i + 1} ('${startText}') never closes`);
}

/**
 * A source file as committed (HEAD), so that line numbers match what a reader checks out; the
 * working copy for a file git does not know.
 */
export function committedSource(file: string, repoRoot: string): string {
  const show = spawnSync('git', ['show', `HEAD:${relative(repoRoot, file)}`], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return show.status === 0 ? show.stdout : readFileSync(file, 'utf8');
}

/** Recomputes every code reference of `markdown` (a chapter at `chapterPath`); returns the new text. */
export function updateReferences(markdown: string, chapterPath: string, repoRoot: string, problems: ChapterProblem[]): string {
  return markdown.replace(LINK, (whole, text: string, href: string, anchor: string) => {
    const file = resolve(dirname(chapterPath), href);
    if (!existsSync(file) || /\.(md|svg|png|json)$/.test(file)) return whole;
    try {
      const [start, end] = locate(committedSource(file, repoRoot).split('\n'), anchor);
      const repoPath = relative(repoRoot, file);
      const newText = LINE_TEXT.test(text) ? `${repoPath}:${start === end ? start : `${start}-${end}`}` : text;
      return `[${newText}](${href}#L${start}${start === end ? '' : `-L${end}`} "${anchor}")`;
    } catch (error) {
      problems.push({ chapter: chapterPath, problem: `${href} "${anchor}": ${(error as Error).message}` });
      return whole;
    }
  });
}

/** Splices generated fragments into `markdown`; links in them are made relative to the chapter. */
export function spliceFragments(markdown: string, chapterPath: string, guideDir: string, generatedDir: string, problems: ChapterProblem[]): string {
  const up = relative(dirname(chapterPath), guideDir);
  return markdown.replace(MARKER, (whole, name: string) => {
    const path = join(generatedDir, `${name}.md`);
    if (!existsSync(path)) {
      problems.push({ chapter: chapterPath, problem: `no fragment generated/${name}.md` });
      return whole;
    }
    let fragment = readFileSync(path, 'utf8').trim();
    if (up) fragment = fragment.replace(/\]\((figures|generated)\//g, `](${up}/$1/`);
    return `<!-- generated:${name} -->\n${fragment}\n<!-- /generated:${name} -->`;
  });
}

/**
 * Brings every chapter up to date: references from the code, fragments from `generatedDir`.
 * `write` false only checks (the small mode writes its fragments elsewhere).
 */
export async function updateChapters(guideDir: string, generatedDir: string, repoRoot: string, write: boolean): Promise<ChapterProblem[]> {
  const problems: ChapterProblem[] = [];
  for (const chapter of chapterFiles(guideDir)) {
    const before = readFileSync(chapter, 'utf8');
    const after = spliceFragments(updateReferences(before, chapter, repoRoot, problems), chapter, guideDir, generatedDir, problems);
    if (write && after !== before) await writeFile(chapter, after);
  }
  return problems;
}
