import { WgslReflect, ResourceType } from 'wgsl_reflect/wgsl_reflect.module.js';

/** How one `@binding` of a kernel is bound, as read from its WGSL (never described twice by hand). */
export interface BindingInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
  /** For a uniform struct: its members, to pack values by name. */
  uniform?: UniformLayout;
}

export interface UniformMember {
  name: string;
  offset: number;
  /** Number of 4-byte scalars the member holds (1 for u32, 4 for vec4<u32>, 8 for array<vec4<u32>, 2>). */
  scalars: number;
  scalarType: 'u32' | 'i32' | 'f32';
}

export interface UniformLayout {
  byteSize: number;
  members: UniformMember[];
}

/** A compiled compute kernel: the pipeline plus what reflection learned about its interface. */
export interface CompiledKernel {
  name: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  bindings: BindingInfo[];
  workgroupSize: [number, number, number];
  /** The WGSL it was compiled from, as its kernel generator wrote it for this shape and adapter. */
  code: string;
  /**
   * Milliseconds createComputePipeline took. In Node that is the compilation (Dawn compiles
   * before it returns); a browser compiles in its GPU process after the call returns.
   */
  compileMs: number;
}

export interface KernelSource {
  /** Name used in dispatch counts and profiles, e.g. `matmul.blocked4x4`. */
  name: string;
  code: string;
  entryPoint?: string;
  /** Values for WGSL `override` declarations. */
  constants?: Record<string, number>;
}

/** Compiles each distinct (name, WGSL source, entry point, constants) once. */
export class PipelineCache {
  private readonly cache = new Map<string, CompiledKernel>();
  /** The same kernels by source object: a cached source (kernels/cached-source.ts) is found without building its key. */
  private readonly bySource = new WeakMap<KernelSource, CompiledKernel>();

  constructor(
    private readonly device: GPUDevice,
    private readonly maxStorageBuffersPerStage: number,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  /** Kernels compiled so far, and their compileMs summed: what a run's first step pays for. */
  get stats(): { compiled: number; compileMs: number } {
    let compileMs = 0;
    for (const kernel of this.cache.values()) compileMs += kernel.compileMs;
    return { compiled: this.cache.size, compileMs };
  }

  /** Every kernel compiled so far, in the order of first use. */
  kernels(): CompiledKernel[] {
    return [...this.cache.values()];
  }

  get(source: KernelSource): CompiledKernel {
    const known = this.bySource.get(source);
    if (known) return known;
    const entryPoint = source.entryPoint ?? 'main';
    // The name too: two kernels whose code happens to be the same (Winograd's product for a
    // forward and for an input gradient of the same shape) still count and profile as themselves.
    const key = `${source.name}\n${entryPoint}\n${JSON.stringify(source.constants ?? {})}\n${source.code}`;
    let kernel = this.cache.get(key);
    if (!kernel) {
      kernel = this.compile(source, entryPoint);
      this.cache.set(key, kernel);
    }
    this.bySource.set(source, kernel);
    return kernel;
  }

  private compile(source: KernelSource, entryPoint: string): CompiledKernel {
    const reflect = new WgslReflect(source.code);
    const entry = reflect.entry.compute.find((f) => f.name === entryPoint);
    if (!entry) throw new Error(`kernel ${source.name}: no @compute entry point named '${entryPoint}'`);
    const bindings = reflectBindings(reflect, source.name);
    const storageCount = bindings.filter((b) => b.kind !== 'uniform').length;
    if (storageCount > this.maxStorageBuffersPerStage) {
      throw new Error(
        `kernel ${source.name} uses ${storageCount} storage buffers, but this adapter allows ` +
          `${this.maxStorageBuffersPerStage} per shader stage (maxStorageBuffersPerShaderStage)`,
      );
    }
    const layout = this.device.createBindGroupLayout({
      label: source.name,
      entries: bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind },
      })),
    });
    const start = performance.now();
    const module = this.device.createShaderModule({ code: source.code, label: source.name });
    const pipeline = this.device.createComputePipeline({
      label: source.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: source.constants ? { module, entryPoint, constants: source.constants } : { module, entryPoint },
    });
    const compileMs = performance.now() - start;
    const workgroupSize = (entry.workgroupSize ?? [1, 1, 1]).map((n) => Number(n) || 1) as [number, number, number];
    return { name: source.name, pipeline, layout, bindings, workgroupSize, code: source.code, compileMs };
  }
}

function reflectBindings(reflect: WgslReflect, kernelName: string): BindingInfo[] {
  const groups = reflect.getBindGroups();
  if (groups.length > 1) throw new Error(`kernel ${kernelName}: only @group(0) is supported`);
  const bindings: BindingInfo[] = [];
  for (const variable of groups[0] ?? []) {
    if (!variable) continue;
    if (variable.resourceType === ResourceType.Uniform) {
      bindings.push({ name: variable.name, binding: variable.binding, kind: 'uniform', uniform: uniformLayout(variable) });
    } else if (variable.resourceType === ResourceType.Storage) {
      const kind = variable.access === 'read' ? 'read-only-storage' : 'storage';
      bindings.push({ name: variable.name, binding: variable.binding, kind });
    } else {
      throw new Error(`kernel ${kernelName}: binding '${variable.name}' is not a buffer; kernels use buffers only`);
    }
  }
  return bindings;
}

function uniformLayout(variable: { name: string; size: number; members: ReadonlyArray<ReflectedMember> | null }): UniformLayout {
  const members = (variable.members ?? []).map((m) => ({
    name: m.name,
    offset: m.offset,
    scalars: m.size / 4,
    scalarType: scalarTypeOf(m),
  }));
  return { byteSize: Math.max(16, Math.ceil(variable.size / 16) * 16), members };
}

interface ReflectedMember {
  name: string;
  offset: number;
  size: number;
  type: { name: string; getTypeName(): string };
}

function scalarTypeOf(member: ReflectedMember): 'u32' | 'i32' | 'f32' {
  // Reflection spells types either way: `vec4<u32>` or the alias `vec4u`.
  const typeName = member.type.getTypeName();
  const match = /(u32|i32|f32)|vec\d([uif])\b/.exec(typeName);
  if (match?.[1]) return match[1] as 'u32' | 'i32' | 'f32';
  if (match?.[2]) return `${match[2]}32` as 'u32' | 'i32' | 'f32';
  throw new Error(`uniform member '${member.name}' has type ${typeName}; use u32, i32, f32 or vectors/arrays of them`);
}

/** Writes named values into a uniform struct's bytes at the offsets reflection found. */
export function packUniforms(layout: UniformLayout, values: Record<string, number | readonly number[]>, kernelName: string): ArrayBuffer {
  const bytes = new ArrayBuffer(layout.byteSize);
  const u32 = new Uint32Array(bytes);
  const i32 = new Int32Array(bytes);
  const f32 = new Float32Array(bytes);
  for (const member of layout.members) {
    const value = values[member.name];
    if (value === undefined) throw new Error(`kernel ${kernelName}: uniform '${member.name}' was not given`);
    const list = typeof value === 'number' ? [value] : value;
    if (list.length > member.scalars) {
      throw new Error(`kernel ${kernelName}: uniform '${member.name}' holds ${member.scalars} values, got ${list.length}`);
    }
    const view = member.scalarType === 'f32' ? f32 : member.scalarType === 'i32' ? i32 : u32;
    view.set(list, member.offset / 4);
  }
  for (const name of Object.keys(values)) {
    if (!layout.members.some((m) => m.name === name)) throw new Error(`kernel ${kernelName}: it has no uniform named '${name}'`);
  }
  return bytes;
}
