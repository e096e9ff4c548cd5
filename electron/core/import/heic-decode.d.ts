// heic-decode ships no types; these are the parts heic.ts uses (see its lib.js).
declare module 'heic-decode' {
  interface HeicPicture {
    width: number;
    height: number;
    decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
  }
  function decode(input: { buffer: Uint8Array }): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
  namespace decode {
    function all(input: { buffer: Uint8Array }): Promise<HeicPicture[] & { dispose(): void }>;
  }
  export default decode;
}
