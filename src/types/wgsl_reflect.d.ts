// wgsl_reflect's package.json points `main` at a CommonJS file inside a
// `"type": "module"` package, so Node cannot import the bare name. We import
// its ES module build by path and borrow the published type declarations.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
