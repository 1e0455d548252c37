// The guide's small mode (what CI runs): every chapter's generated fragments and figures are
// written, every figure they link to opens, every code reference's anchor is found.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { chapterFiles, locate } from '../scripts/guide/chapters.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GUIDE = join(REPO, 'docs', 'guide');
const out = mkdtempSync(join(tmpdir(), 'wgt-guide-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const markers = (text: string) => [...text.matchAll(/<!-- generated:([\w-]+) -->/g)].map((m) => m[1]!);

describe('npm run guide -- --small', () => {
  it('writes every fragment the chapters include, and every figure those link to opens', async () => {
    const run = spawnSync('npx', ['tsx', 'scripts/guide/run.ts', '--small', '--out', out], { cwd: REPO, encoding: 'utf8', timeout: 1_500_000 });
    console.log(run.stdout.split('\n').filter((l) => !/Warning|XDG/.test(l)).join('\n'));
    expect(run.status, run.stderr.slice(-4000)).toBe(0);

    const wanted = new Set(chapterFiles(GUIDE).flatMap((f) => markers(readFileSync(f, 'utf8'))));
    expect(wanted.size).toBeGreaterThan(10);
    for (const name of wanted) {
      const path = join(out, 'generated', `${name}.md`);
      expect(existsSync(path), `generated/${name}.md`).toBe(true);
      const text = readFileSync(path, 'utf8');
      // Tables are well formed: every row of a table has its header's number of cells.
      for (const block of text.split(/\n\s*\n/).filter((b) => b.startsWith('|'))) {
        const rows = block.split('\n').filter((l) => l.startsWith('|'));
        const cells = (row: string) => row.replace(/\\\|/g, '').split('|').length;
        for (const row of rows) expect(cells(row), `${name}: ${row}`).toBe(cells(rows[0]!));
      }
      for (const [, link] of text.matchAll(/\]\((figures\/[^)\s]+)\)/g)) {
        const file = join(out, link!);
        expect(existsSync(file), link).toBe(true);
        if (/\.json$/.test(file)) expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
        if (/\.(svg|png|jpg)$/.test(file)) expect((await sharp(file).metadata()).width, link).toBeGreaterThan(0);
      }
    }
    // Every figure the guide ships is one the script makes (none drawn or kept by hand).
    const made = new Set(readdirSync(join(out, 'figures')));
    for (const figure of readdirSync(join(GUIDE, 'figures'))) expect(made.has(figure), `figures/${figure}`).toBe(true);
  }, 1_800_000);

  it('finds every code reference of the chapters in the source, at the lines its link names', () => {
    for (const chapter of chapterFiles(GUIDE)) {
      for (const [, href, start, end, anchor] of readFileSync(chapter, 'utf8').matchAll(/\]\(([^)\s#]+\.ts)(?:#L(\d+)(?:-L(\d+))?)?\s+"([^"]+)"\)/g)) {
        const file = resolve(dirname(chapter), href!);
        const where = `${chapter}: ${href} "${anchor}"`;
        expect(existsSync(file), where).toBe(true);
        const lines = locate(readFileSync(file, 'utf8').split('\n'), anchor!);
        // A stale range shows the reader other code: \`npx tsx scripts/guide/run.ts --update-only\` after a commit.
        if (start) expect([Number(start), Number(end ?? start)], where).toEqual(lines);
      }
    }
  });
});
