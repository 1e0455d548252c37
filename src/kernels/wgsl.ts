// WGSL fragments shared by several kernels. Each is a plain string spliced into a kernel's source.

/** Invocations per workgroup for 1-D element-wise kernels (fits every adapter's 256 limit). */
export const WORKGROUP_1D = 64;

/**
 * The linear invocation index of a 1-D launch whose workgroups may have been folded into y and z
 * (WebGPU allows at most 65,535 workgroups per dimension; see runtime/workgroups.ts).
 */
export const linearIndex = /* wgsl */ `
fn linear_index(wg: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  let group = wg.x + (wg.y + wg.z * groups.y) * groups.x;
  return group * ${WORKGROUP_1D}u + local;
}`;

/**
 * The stride of a grid-stride loop: every invocation of the launch, however it was folded.
 * `for (var i = linear_index(...); i < n; i += grid_stride(groups))` covers n elements with any
 * number of workgroups (see `groupsFor1d` in launch.ts for why fewer can be better).
 */
export const gridStride = /* wgsl */ `
fn grid_stride(groups: vec3<u32>) -> u32 {
  return groups.x * groups.y * groups.z * ${WORKGROUP_1D}u;
}`;

/** The entry point signature of a 1-D kernel; the body reads its element index as `i`. */
export const entry1d = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP_1D})
fn main(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) local: u32)`;

/** Up to 8 dimensions of shape or strides, packed as uniforms must be (16-byte array elements). */
export const MAX_DIMS = 8;
export const dimsType = 'array<vec4<u32>, 2>';

/** The lowest finite f32, the identity of max(). (3.4028235e38 itself rounds past f32's range.) */
export const F32_LOWEST = '-3.40282346e38';
