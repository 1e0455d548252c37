// wgsl_reflect's package `main` is CommonJS inside a `"type": "module"` package, so the code is
// imported from its ES module file, whose types live apart from it.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect/types/index.js';
}
