// The writing side of pickle.ts: just the protocol-2 opcodes a state dict needs.

export class PickleWriter {
  private readonly chunks: number[] = [];
  private readonly encoder = new TextEncoder();

  constructor() {
    this.chunks.push(0x80, 2); // PROTO 2: what torch.save writes, readable by every PyTorch
  }

  global(module: string, name: string): this {
    this.chunks.push(0x63, ...this.encoder.encode(`${module}\n${name}\n`));
    return this;
  }

  mark(): this {
    this.chunks.push(0x28);
    return this;
  }

  /** TUPLE: everything since the last mark. */
  tuple(): this {
    this.chunks.push(0x74);
    return this;
  }

  intTuple(values: readonly number[]): this {
    this.mark();
    for (const value of values) this.int(value);
    return this.tuple();
  }

  emptyTuple(): this {
    this.chunks.push(0x29);
    return this;
  }

  string(value: string): this {
    const bytes = this.encoder.encode(value);
    this.chunks.push(0x58, ...le(bytes.byteLength, 4), ...bytes);
    return this;
  }

  int(value: number): this {
    if (value >= 0 && value < 0x100) this.chunks.push(0x4b, value);
    else if (value >= 0 && value < 0x10000) this.chunks.push(0x4d, ...le(value, 2));
    else if (value >= -0x80000000 && value < 0x80000000) this.chunks.push(0x4a, ...le(value, 4));
    else this.chunks.push(0x8a, 8, ...le(value, 8)); // LONG1, 8 bytes of two's complement
    return this;
  }

  bool(value: boolean): this {
    this.chunks.push(value ? 0x88 : 0x89);
    return this;
  }

  /** BINPERSID: the object on the stack is a persistent id. */
  persistentId(): this {
    this.chunks.push(0x51);
    return this;
  }

  /** REDUCE: call the global below the argument tuple. */
  reduce(): this {
    this.chunks.push(0x52);
    return this;
  }

  /** SETITEMS: key/value pairs since the last mark go into the dict below the mark. */
  setItems(): this {
    this.chunks.push(0x75);
    return this;
  }

  stop(): Uint8Array {
    this.chunks.push(0x2e);
    return Uint8Array.from(this.chunks);
  }
}

function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(bytes * 8, BigInt(value));
  for (let i = 0; i < bytes; i++, rest >>= 8n) out.push(Number(rest & 0xffn));
  return out;
}
