// The browser bundle imports src/data/index.ts: nothing reachable from it may import Node modules.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/data');
const IMPORT = /(?:import|export)\s[^'"]*?from\s+'([^']+)'/g;

function reachableImports(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => match[1]!);
    seen.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return seen;
}

describe('src/data/index.ts', () => {
  it('reaches no Node module and no sharp', () => {
    const imports = reachableImports(join(DATA, 'index.ts'));
    const external = [...imports.values()].flat().filter((specifier) => !specifier.startsWith('.'));
    expect(external).toEqual([]);
    expect([...imports.keys()].map((file) => file.slice(DATA.length + 1))).not.toContain('decode-node.ts');
  });

  it('the Node entry does reach sharp (the check above can see imports)', () => {
    const external = [...reachableImports(join(DATA, 'node.ts')).values()].flat().filter((s) => !s.startsWith('.'));
    expect(external).toContain('sharp');
    expect(external).toContain('node:fs/promises');
  });
});
