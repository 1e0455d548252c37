// One error class per way a weight file can be wrong. Every message names the file and, when
// one is involved, the tensor key, because "offset past end" is useless without them.

export class WeightFormatError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    detail: string,
  ) {
    super(`${file}: ${key === undefined ? '' : `tensor "${key}": `}${detail}`);
    this.name = new.target.name;
  }
}

/** The file ends before a structure it announces (header, pickle, storage, zip record). */
export class TruncatedFileError extends WeightFormatError {}

/** The first bytes match none of the formats we read. */
export class UnknownFormatError extends WeightFormatError {}

/** A header (safetensors JSON, zip directory, pickle stream) is malformed. */
export class CorruptHeaderError extends WeightFormatError {}

/** A tensor's bytes lie outside the data area, overlap another tensor, or disagree with its shape. */
export class TensorLayoutError extends WeightFormatError {}

/** The tensor's element type has no reader here (complex, float8, quantized...). */
export class UnsupportedDtypeError extends WeightFormatError {}

/** A valid file using a feature we chose not to read (compressed zip entry, big-endian data). */
export class UnsupportedFeatureError extends WeightFormatError {}

/** The pickle names a global outside the allow-list; it is refused, never imported or run. */
export class UnsafePickleError extends WeightFormatError {
  constructor(
    file: string,
    readonly global: string,
  ) {
    super(
      file,
      undefined,
      `refusing pickle global "${global}": only state-dict tensors are allowed ` +
        `(a whole pickled model or a TorchScript file is code: save model.state_dict() with torch.save instead)`,
    );
  }
}

/** The caller asked for a tensor name the file does not hold. */
export class MissingTensorError extends WeightFormatError {
  constructor(file: string, key: string) {
    super(file, key, 'no such tensor in this file');
  }
}
