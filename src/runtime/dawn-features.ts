// Dawn features the engine turns off, and why. No imports: runtime/ and testing/ both read it.

/**
 * Turned off on SwiftShader in Node (createNodeGpu, runtime/node-gpu.ts), and in the Chromium
 * that webgpu-transfer/testing launches whatever its adapter (`--disable-dawn-features=`,
 * testing/chromium.ts: the flag is set before the adapter is known).
 *
 * WebGPU zero-fills workgroup memory before a kernel runs. Dawn has the Vulkan driver do it where
 * the driver offers to (VK_KHR_zero_initialize_workgroup_memory), and SwiftShader's compiler then
 * spends about 1.3 s on every kernel with 16 KB of workgroup memory (the blocked convolution's
 * weight cache), whatever the rest of the kernel: a ResNet-18 step's first use spent 45 s
 * compiling. With this feature off, Dawn's shader translator writes the zeros with a loop at the
 * kernel's start: the same zeros, and that step compiles in 8 s (bench/compile.ts); the steps
 * after it run no slower (ResNet-18's 1.5x faster). lavapipe compiles and runs either way as
 * fast; a GPU keeps Dawn's default.
 */
export const DRIVER_ZEROED_WORKGROUP_MEMORY = 'use_vulkan_zero_initialize_workgroup_memory_extension';
