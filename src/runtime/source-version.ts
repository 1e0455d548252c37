// Node only: which code a measurement came from, for the reports that print one (bench, profile).
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SourceVersion {
  /** The package's version, from its package.json ('unknown' in a bundle without it: the GPU pack). */
  version: string;
  /** The git commit (12 hex digits), or 'unknown' outside a clone of this project (an npm install). */
  commit: string;
  /** Whether the engine's code or its dependencies differ from the commit; null when unknown. */
  dirty: boolean | null;
}

/** The package's root: two folders up from this file, in src/runtime/ as in dist/runtime/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * This package's version and commit. On a machine without git (the GPU script's), bench/gpu/pack.sh
 * leaves the commit in WGT_COMMIT (and WGT_DIRTY=1 for uncommitted changes). Git is asked about the
 * package's own folder, and only if that folder is the top of a work tree: an installed copy inside
 * someone else's repository must not report their commit.
 */
export function sourceVersion(): SourceVersion {
  const version = packageVersion();
  if (process.env.WGT_COMMIT) return { version, commit: process.env.WGT_COMMIT, dirty: process.env.WGT_DIRTY === '1' };
  const git = (...args: string[]) => spawnSync('git', ['-C', PACKAGE_ROOT, ...args], { encoding: 'utf8' });
  const top = git('rev-parse', '--show-toplevel');
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (top.status !== 0 || head.status !== 0 || !sameFolder(top.stdout.trim(), PACKAGE_ROOT)) return { version, commit: 'unknown', dirty: null };
  const status = git('status', '--porcelain', '--', 'src', 'bench', ':!bench/reports', 'package.json', 'package-lock.json'); // the code and its dependencies, not the reports it writes
  return { version, commit: head.stdout.trim(), dirty: status.status === 0 ? status.stdout.trim().length > 0 : null };
}

/** "webgpu-transfer 0.1.0, commit 0123456789ab (with uncommitted changes)". */
export function describeSourceVersion(v: SourceVersion): string {
  return `webgpu-transfer ${v.version}, commit ${v.commit}${v.dirty ? ' (with uncommitted changes)' : ''}`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Whether two paths name one folder, through symbolic links (git prints the real path). */
function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
