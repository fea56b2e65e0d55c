// The build embeds each .wasm file as its bytes (esbuild's binary loader).
declare module "*.wasm" {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
