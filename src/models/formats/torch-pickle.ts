// The few Python objects a PyTorch state dict is made of, and the allow-list that builds them.
// Both .pth containers (zip and legacy) pickle the same objects; they differ only in where the
// storage bytes live, which is why storages stay references here.

import { type DType } from './dtype.js';
import { CorruptHeaderError, UnsafePickleError, UnsupportedDtypeError } from './errors.js';
import { PickleGlobal, unpickle, type PickleHooks } from './pickle.js';
import { buildNumpyArray, buildNumpyDtype, NUMPY_GLOBALS, NUMPY_NDARRAY, NumpyArray, NumpyDtype } from './numpy-data.js';

/** A persistent id: ('storage', StorageType, key, location, numel[, view]) in the pickle. */
export class PickledStorage {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    /** Elements in the whole (root) storage. */
    readonly numel: number,
    /** Legacy files could pickle a slice of a storage: its first element in the root. */
    readonly viewOffset: number,
  ) {}
}

export class PickledTensor {
  constructor(
    readonly storage: PickledStorage,
    /** In elements, relative to the storage (view) start. */
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** torch.FloatStorage and friends only ever appear inside persistent ids, to give the dtype (null: one we do not read). */
class StorageType extends PickleGlobal {
  constructor(
    name: string,
    readonly dtype: DType | null,
  ) {
    super('torch', name);
  }
}

/**
 * A tensor over a storage of a dtype we do not read (complex): kept until its key is known, so
 * that the refusal can name it.
 */
class UnreadableTensor {
  constructor(readonly storageType: string) {}
}

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8',
};

export interface PickledStateDict {
  /** By dotted name, in pickle order. */
  readonly tensors: Map<string, PickledTensor>;
  /** Every storage the pickle refers to, by key (the first reference gives its dtype). */
  readonly storages: Map<string, PickledStorage>;
  /** Byte after the pickle's STOP. */
  readonly end: number;
}

/** The storage class PyTorch pickles for a dtype (the writer's side of the table above). */
export function storageTypeName(dtype: DType): string {
  return dtype === 'U8' ? 'ByteStorage' : Object.keys(STORAGE_DTYPES).find((name) => STORAGE_DTYPES[name] === dtype)!;
}

/** Reads the state-dict pickle at `start`. */
export function unpickleStateDict(bytes: Uint8Array, start: number, fileName: string): PickledStateDict {
  const storages = new Map<string, PickledStorage>();
  const { value, end } = unpickle(bytes, start, fileName, stateDictHooks(fileName, storages));
  if (!(value instanceof Map)) {
    throw new CorruptHeaderError(fileName, undefined, 'the pickle holds no dict of tensors (not a state dict)');
  }
  const tensors = new Map<string, PickledTensor>();
  collectTensors(value, '', tensors, fileName);
  return { tensors, storages, end };
}

/** For the pickles around a legacy state dict (magic number, sys_info, key list): plain data only. */
export function plainDataHooks(fileName: string): PickleHooks {
  return {
    findGlobal(module, name) {
      throw new UnsafePickleError(fileName, `${module}.${name}`);
    },
  };
}

/**
 * Checkpoints often nest the state dict ({'model': {...}, 'epoch': 3}); nested names are joined
 * with dots, and values that are not tensors are left out.
 */
function collectTensors(dict: Map<unknown, unknown>, prefix: string, out: Map<string, PickledTensor>, fileName: string, open = new Set<unknown>()): void {
  // A dict inside itself (a pickle can say so) would nest without end.
  if (open.has(dict)) throw new CorruptHeaderError(fileName, undefined, `the dict at "${prefix.replace(/\.$/, '') || '(top)'}" contains itself`);
  open.add(dict);
  for (const [key, value] of dict) {
    const name = prefix + String(key);
    // Two ways to one name ('a.b', and 'b' in a dict 'a') would leave one of the tensors out, unseen.
    if (value instanceof PickledTensor || value instanceof Map) {
      if (out.has(name)) throw new CorruptHeaderError(fileName, name, 'two tensors have this name once nested names are joined with dots');
    }
    if (value instanceof UnreadableTensor) throw new UnsupportedDtypeError(fileName, name, `a tensor of storage type torch.${value.storageType} (complex and quantized tensors are not read)`);
    if (value instanceof PickledTensor) out.set(name, value);
    else if (value instanceof Map) collectTensors(value, `${name}.`, out, fileName, open);
  }
  open.delete(dict);
}

function stateDictHooks(fileName: string, storages: Map<string, PickledStorage>): PickleHooks {
  const corrupt = (detail: string): never => {
    throw new CorruptHeaderError(fileName, undefined, detail);
  };
  const readOrCorrupt = (name: string, read: (args: readonly unknown[]) => unknown, args: readonly unknown[]): unknown => {
    try {
      return read(args);
    } catch (error) {
      return corrupt(`${name}: ${(error as Error).message}`);
    }
  };
  const rebuildTensor = (args: readonly unknown[]): PickledTensor | UnreadableTensor => {
    const [storage, offset, shape, stride] = args;
    if (storage instanceof StorageType) return new UnreadableTensor(storage.name);
    if (!(storage instanceof PickledStorage) || !isInt(offset) || !isIntTuple(shape) || !isIntTuple(stride)) {
      return corrupt('_rebuild_tensor arguments are not (storage, offset, size, stride)');
    }
    if (shape.length !== stride.length) corrupt(`tensor size ${shape} and stride ${stride} differ in rank`);
    return new PickledTensor(storage, offset, shape, stride);
  };

  const allowed: Record<string, (args: readonly unknown[]) => unknown> = {
    'collections.OrderedDict': (args) => new Map(args.length ? (args[0] as Iterable<[unknown, unknown]>) : []),
    'torch._utils._rebuild_tensor': rebuildTensor,
    'torch._utils._rebuild_tensor_v2': rebuildTensor,
    'torch._utils._rebuild_parameter': ([data]) =>
      data instanceof PickledTensor || data instanceof UnreadableTensor ? data : corrupt('_rebuild_parameter of something that is not a tensor'),
    ...Object.fromEntries(Object.entries(NUMPY_GLOBALS).map(([name, read]) => [name, (args: readonly unknown[]) => readOrCorrupt(name, read, args)])),
  };

  return {
    findGlobal(module, name) {
      const qualified = `${module}.${name}`;
      const construct = allowed[qualified];
      if (construct) return new PickleGlobal(module, name, construct);
      if (qualified === NUMPY_NDARRAY.qualifiedName) return NUMPY_NDARRAY;
      if (module === 'torch' && name.endsWith('Storage')) {
        return new StorageType(name, STORAGE_DTYPES[name] ?? null);
      }
      throw new UnsafePickleError(fileName, qualified);
    },

    persistentLoad(id) {
      // zip: ('storage', type, key, location, numel); legacy adds view metadata (or None).
      if (!Array.isArray(id) || id[0] !== 'storage') return corrupt('persistent id is not a storage reference');
      const [, storageType, key, , numel, view] = id as unknown[];
      if (!(storageType instanceof StorageType) || typeof key !== 'string' || !isInt(numel)) {
        return corrupt(`malformed storage id for key ${String(key)}`);
      }
      // A storage we do not read stands for itself: the tensor over it is refused by its key.
      if (storageType.dtype === null) return storageType;
      const viewOffset = view === undefined || view === null ? 0 : (view as unknown[])[1];
      if (!isInt(viewOffset)) return corrupt(`malformed storage view of key ${key}`);
      const storage = new PickledStorage(key, storageType.dtype, numel, viewOffset);
      if (!storages.has(key)) storages.set(key, storage);
      return storage;
    },

    build(target, state) {
      if (target instanceof NumpyDtype) return buildNumpyDtype(target, state);
      if (target instanceof NumpyArray) {
        readOrCorrupt('numpy.ndarray', ([arrayState]) => buildNumpyArray(target, arrayState), [state]);
        return;
      }
      // state_dict() pickles its `_metadata` (module versions) as OrderedDict state: not needed.
      if (!(target instanceof Map)) corrupt('BUILD on an object other than a dict');
    },
  };
}

function isInt(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isIntTuple(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every(isInt);
}
