// Which code a report names (src/runtime/source-version.ts): this clone's commit, the GPU pack's
// WGT_COMMIT, and never the commit of a repository the package was installed into.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceVersion } from '../src/runtime/source-version.js';

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' });

/** sourceVersion() as a copy of the module at `root` reports it, in a fresh process. */
function versionOfCopy(root: string, env: NodeJS.ProcessEnv = {}): unknown {
  const script = `import { sourceVersion } from ${JSON.stringify(join(root, 'src/runtime/source-version.ts'))}; console.log(JSON.stringify(sourceVersion()));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, WGT_COMMIT: '', ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('sourceVersion', () => {
  it("names this clone's commit and version", () => {
    const head = git('.', 'rev-parse', '--short=12', 'HEAD');
    const v = sourceVersion();
    expect(v.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(v.commit).toBe(head.status === 0 ? head.stdout.trim() : 'unknown');
  });

  it("says 'unknown' for a copy installed inside another repository, not that repository's commit", () => {
    const host = mkdtempSync(join(tmpdir(), 'wgt-host-'));
    try {
      const root = join(host, 'node_modules', 'webgpu-transfer');
      mkdirSync(join(root, 'src', 'runtime'), { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'webgpu-transfer', version: '9.8.7', type: 'module' }));
      copyFileSync('src/runtime/source-version.ts', join(root, 'src/runtime/source-version.ts'));
      for (const args of [['init', '-q'], ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'host']]) expect(git(host, ...args).status).toBe(0);
      expect(git(host, 'rev-parse', 'HEAD').stdout.trim()).toMatch(/^[0-9a-f]{40}$/);
      expect(versionOfCopy(root)).toEqual({ version: '9.8.7', commit: 'unknown', dirty: null });
      // The GPU pack, which has no git, passes the commit it was packed from.
      expect(versionOfCopy(root, { WGT_COMMIT: 'abc123', WGT_DIRTY: '1' })).toEqual({ version: '9.8.7', commit: 'abc123', dirty: true });
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });
});
