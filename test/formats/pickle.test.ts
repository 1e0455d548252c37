// The pickle VM on plain data pickled by CPython in protocols 2 to 5, and its refusals.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorruptHeaderError, TruncatedFileError, UnsafePickleError } from '../../src/models/formats/errors.js';
import { PickleGlobal, unpickle, type PickleHooks } from '../../src/models/formats/pickle.js';
import { ensureWeightFixtures, WEIGHTS_DIR } from './fixtures.js';

beforeAll(() => {
  ensureWeightFixtures();
});

/** Protocols 2 and 3 pickle bytes and sets by calling builtins; this test allows exactly those. */
const toSet = ([items]: readonly unknown[]) => new Set(items as unknown[]);
const PLAIN_BUILTINS: Record<string, (args: readonly unknown[]) => unknown> = {
  '_codecs.encode': ([text]) => Uint8Array.from(text as string, (c) => c.charCodeAt(0)),
  '__builtin__.set': toSet,
  '__builtin__.frozenset': toSet,
  'builtins.set': toSet,
  'builtins.frozenset': toSet,
};
const hooks: PickleHooks = {
  findGlobal(module, name) {
    const call = PLAIN_BUILTINS[`${module}.${name}`];
    if (!call) throw new UnsafePickleError('plain.pkl', `${module}.${name}`);
    return new PickleGlobal(module, name, call);
  },
};

// Mirrors PLAIN_DATA in scripts/fixtures/make_weight_files.py.
const nested = new Map<unknown, unknown>([
  ['list', [1, [2, 3]]],
  [7, 'int key'],
]);
const PLAIN_DATA = new Map<string, unknown>([
  ['none', null],
  ['true', true],
  ['false', false],
  ['ints', [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2n ** 53n + 1n, -(2n ** 70n), Number(2n ** 1000n % 97n)]],
  ['float', -1.5e-7],
  ['text', 'h\u00e9llo \u2603'],
  ['long_text', 'x'.repeat(300)],
  ['bytes', Uint8Array.from([0, 1, 255])],
  ['tuples', [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]],
  ['nested', nested],
  ['set', new Set([3])],
  ['frozenset', new Set([4])],
  ['shared', nested],
]);

describe('unpickling plain data', () => {
  it.each([2, 3, 4, 5])('protocol %i', (protocol) => {
    const bytes = new Uint8Array(readFileSync(`${WEIGHTS_DIR}plain_data_protocol${protocol}.pkl`));
    const { value, end } = unpickle(bytes, 0, 'plain.pkl', hooks);
    expect(end).toBe(bytes.length);
    expect(value).toEqual(PLAIN_DATA);
    const map = value as Map<string, unknown>;
    expect(map.get('shared')).toBe(map.get('nested')); // the memo gives back the same object
    expect(Object.isFrozen(map.get('tuples'))).toBe(true); // tuples are immutable, lists are not
    expect(Object.isFrozen((map.get('nested') as Map<string, unknown>).get('list'))).toBe(false);
  });
});

const pickle = (...ops: (number | string)[]) =>
  Uint8Array.from(ops.flatMap((op) => (typeof op === 'string' ? [...new TextEncoder().encode(op)] : [op])));

it('reads Python 2 byte strings (SHORT_BINSTRING, BINSTRING) as latin-1 text', () => {
  const bytes = pickle(0x80, 2, 0x55, 3, 'key', 0x54, 2, 0, 0, 0, 0xe9, 0x21, 0x86, 0x2e);
  expect(unpickle(bytes, 0, 'py2.pkl', hooks).value).toEqual(['key', '\u00e9!']);
});

describe('what the VM refuses', () => {
  it('a global the hooks do not allow, named in the error', () => {
    const bytes = pickle(0x80, 2, 0x63, 'subprocess\nrun\n', 0x2e);
    expect(() => unpickle(bytes, 0, 'plain.pkl', hooks)).toThrow(/plain\.pkl: refusing pickle global "subprocess\.run"/);
  });

  it('calling an allowed global that is not callable', () => {
    const marker: PickleHooks = { findGlobal: (module, name) => new PickleGlobal(module, name) };
    const bytes = pickle(0x80, 2, 0x63, 'torch\nFloatStorage\n', 0x29, 0x52, 0x2e);
    expect(() => unpickle(bytes, 0, 'plain.pkl', marker)).toThrow(/cannot call torch\.FloatStorage/);
  });

  it('persistent ids and BUILD unless the caller handles them', () => {
    expect(() => unpickle(pickle(0x80, 2, 0x4e, 0x51, 0x2e), 0, 'plain.pkl', hooks)).toThrow(/persistent ids are not allowed/);
    expect(() => unpickle(pickle(0x80, 2, 0x7d, 0x4e, 0x62, 0x2e), 0, 'plain.pkl', hooks)).toThrow(/BUILD is not allowed/);
  });

  it('a pickle that ends before STOP', () => {
    expect(() => unpickle(pickle(0x80, 2, 0x58, 10, 0, 0, 0, 'abc'), 0, 'plain.pkl', hooks)).toThrow(TruncatedFileError);
  });

  it('malformed programs: stack underflow, missing MARK, unknown memo slot', () => {
    for (const bytes of [pickle(0x80, 2, 0x2e), pickle(0x80, 2, 0x74, 0x2e), pickle(0x80, 2, 0x68, 5, 0x2e)]) {
      expect(() => unpickle(bytes, 0, 'plain.pkl', hooks)).toThrow(CorruptHeaderError);
    }
  });
});
