// A pickle reader that builds data, never behaviour. A pickle is a program for a small stack
// machine; Python's own unpickler imports any module.function the program names and calls it,
// which is how a malicious .pth file runs code. Here every GLOBAL goes through the caller's
// `findGlobal`, which returns an allow-listed stand-in or throws.
//
// Python values become: None -> null, bool -> boolean, int -> number (bigint past 2^53),
// float -> number, str -> string, bytes -> Uint8Array, tuple -> frozen array, list -> array,
// dict -> Map, set -> Set.

import { CorruptHeaderError, TruncatedFileError } from './errors.js';

/** What an allow-listed GLOBAL resolves to. `call` is present when REDUCE/NEWOBJ may invoke it. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call?: (args: readonly unknown[]) => unknown,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface PickleHooks {
  /** Returns the stand-in for `module.name`, or throws to refuse it. */
  findGlobal(module: string, name: string): PickleGlobal;
  /** BINPERSID: turns a persistent id (PyTorch: a storage reference) into a value. */
  persistentLoad?(id: unknown): unknown;
  /** BUILD: applies pickled state to an object; throw to refuse. */
  build?(target: unknown, state: unknown): void;
}

const enum Op {
  MARK = 0x28, EMPTY_TUPLE = 0x29, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, DUP = 0x32,
  BINBYTES = 0x42, SHORT_BINBYTES = 0x43, BINFLOAT = 0x47, BININT = 0x4a, BININT1 = 0x4b,
  BININT2 = 0x4d, NONE = 0x4e, BINPERSID = 0x51, REDUCE = 0x52, BINSTRING = 0x54,
  SHORT_BINSTRING = 0x55, BINUNICODE = 0x58, EMPTY_LIST = 0x5d, APPEND = 0x61, BUILD = 0x62,
  GLOBAL = 0x63, DICT = 0x64, APPENDS = 0x65, BINGET = 0x68, LONG_BINGET = 0x6a, LIST = 0x6c,
  BINPUT = 0x71, LONG_BINPUT = 0x72, SETITEM = 0x73, TUPLE = 0x74, SETITEMS = 0x75,
  EMPTY_DICT = 0x7d, PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
  NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91,
  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96,
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Runs the pickle starting at `start` up to its STOP opcode.
 * Throws TruncatedFileError if `bytes` ends first (callers reading a window may retry larger).
 */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  fileName: string,
  hooks: PickleHooks,
): { value: unknown; end: number } {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (detail: string): never => {
    throw new CorruptHeaderError(fileName, undefined, `pickle at byte ${at}: ${detail}`);
  };
  const take = (length: number): Uint8Array => {
    if (length < 0) fail(`negative length ${length}`);
    if (at + length > bytes.byteLength) {
      throw new TruncatedFileError(fileName, undefined, `pickle starting at byte ${start} ends before its STOP opcode`);
    }
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  const u8 = () => take(1)[0]!;
  const u16 = () => (take(2), data.getUint16(at - 2, true));
  const u32 = () => (take(4), data.getUint32(at - 4, true));
  const i32 = () => (take(4), data.getInt32(at - 4, true));
  const u64 = () => (take(8), Number(data.getBigUint64(at - 8, true)));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, at);
    // With no newline, asking for one byte past the end reports the truncation.
    return latin1.decode(take((end < 0 ? bytes.byteLength : end) - at + 1).subarray(0, -1));
  };
  // A function, not `stack.push(...)`: that would pick the stack before a popMark() argument swaps it.
  const push = (value: unknown): void => {
    stack.push(value);
  };
  const pop = (): unknown => (stack.length ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const items = stack;
    stack = marks.pop() ?? fail('no MARK to pop to');
    return items;
  };
  const recall = (index: number): unknown => (memo.has(index) ? memo.get(index) : fail(`memo ${index} is empty`));
  const call = (callable: unknown, args: unknown): unknown => {
    if (!(callable instanceof PickleGlobal) || !callable.call || !Array.isArray(args)) {
      return fail(`cannot call ${callable instanceof PickleGlobal ? callable.qualifiedName : typeof callable}`);
    }
    return callable.call(args);
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map) || items.length % 2) fail('SETITEM(S) needs a dict and key/value pairs');
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list) || Object.isFrozen(list)) fail('APPEND(S) needs a list');
    (list as unknown[]).push(...items);
  };

  // Protocols 2 and up open with PROTO; 0 and 1 do not, and write numbers and strings as text
  // opcodes, which this reader leaves out (torch.save writes protocol 2 unless asked otherwise).
  let protocol: number | null = null;
  for (;;) {
    const opcodeAt = at;
    const opcode = u8();
    switch (opcode) {
      case Op.PROTO: {
        protocol = u8();
        if (protocol > 5) fail(`pickle protocol ${protocol} is newer than 5`);
        break;
      }
      case Op.FRAME: u64(); break; // framing only groups opcodes for buffered reading
      case Op.STOP: return { value: pop(), end: at };

      case Op.MARK: marks.push(stack); stack = []; break;
      case Op.POP: pop(); break;
      case Op.POP_MARK: popMark(); break;
      case Op.DUP: push(top()); break;

      case Op.NONE: push(null); break;
      case Op.NEWTRUE: push(true); break;
      case Op.NEWFALSE: push(false); break;
      case Op.BININT: push(i32()); break;
      case Op.BININT1: push(u8()); break;
      case Op.BININT2: push(u16()); break;
      case Op.LONG1: push(decodeLong(take(u8()))); break;
      case Op.LONG4: push(decodeLong(take(u32()))); break;
      case Op.BINFLOAT: take(8); push(data.getFloat64(at - 8, false)); break;

      case Op.SHORT_BINUNICODE: push(decodeUtf8(take(u8()), fail)); break;
      case Op.BINUNICODE: push(decodeUtf8(take(u32()), fail)); break;
      case Op.BINUNICODE8: push(decodeUtf8(take(u64()), fail)); break;
      case Op.SHORT_BINSTRING: push(latin1.decode(take(u8()))); break;
      case Op.BINSTRING: push(latin1.decode(take(i32()))); break;
      case Op.SHORT_BINBYTES: push(take(u8()).slice()); break;
      case Op.BINBYTES: push(take(u32()).slice()); break;
      case Op.BINBYTES8:
      case Op.BYTEARRAY8: push(take(u64()).slice()); break;

      case Op.EMPTY_TUPLE: push(Object.freeze([])); break;
      case Op.TUPLE1: push(Object.freeze([pop()])); break;
      case Op.TUPLE2: { const b = pop(); push(Object.freeze([pop(), b])); break; }
      case Op.TUPLE3: { const c = pop(); const b = pop(); push(Object.freeze([pop(), b, c])); break; }
      case Op.TUPLE: push(Object.freeze(popMark())); break;
      case Op.EMPTY_LIST: push([]); break;
      case Op.LIST: push(popMark()); break;
      case Op.APPEND: { const item = pop(); appendItems(top(), [item]); break; }
      case Op.APPENDS: { const items = popMark(); appendItems(top(), items); break; }
      case Op.EMPTY_DICT: push(new Map()); break;
      case Op.DICT: { const dict = new Map(); setItems(dict, popMark()); push(dict); break; }
      case Op.SETITEM: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; }
      case Op.SETITEMS: { const items = popMark(); setItems(top(), items); break; }
      case Op.EMPTY_SET: push(new Set()); break;
      case Op.ADDITEMS: {
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail('ADDITEMS needs a set');
        for (const item of items) (set as Set<unknown>).add(item);
        break;
      }
      case Op.FROZENSET: push(new Set(popMark())); break;

      case Op.BINPUT: memo.set(u8(), top()); break;
      case Op.LONG_BINPUT: memo.set(u32(), top()); break;
      case Op.MEMOIZE: memo.set(memo.size, top()); break;
      case Op.BINGET: push(recall(u8())); break;
      case Op.LONG_BINGET: push(recall(u32())); break;

      case Op.GLOBAL: { const module = line(); push(hooks.findGlobal(module, line())); break; }
      case Op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(hooks.findGlobal(module as string, name as string));
        break;
      }
      case Op.REDUCE:
      case Op.NEWOBJ: { const args = pop(); push(call(pop(), args)); break; }
      case Op.BUILD: {
        const state = pop();
        if (!hooks.build) fail('BUILD is not allowed here');
        hooks.build!(top(), state);
        break;
      }
      case Op.BINPERSID: {
        if (!hooks.persistentLoad) fail('persistent ids are not allowed here');
        push(hooks.persistentLoad!(pop()));
        break;
      }
      default:
        at = opcodeAt;
        fail(
          `unsupported opcode 0x${opcode.toString(16).padStart(2, '0')}` +
            (protocol === null ? ` (a pickle of protocol 0 or 1, as torch.save(..., pickle_protocol=0 or 1) writes: save it with the default protocol)` : ''),
        );
    }
  }
}

function decodeUtf8(bytes: Uint8Array, fail: (detail: string) => never): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return fail('string is not valid UTF-8');
  }
}

/** Little-endian two's complement of any length, as LONG1/LONG4 store Python ints. */
function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return toNumber(value);
}

function toNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
