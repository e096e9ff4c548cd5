// IEEE half precision, for cached activations: half the disk of float32 and far more precision
// than a frozen pass's outputs need (≈3 significant digits).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    f32[0] = src[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp >= 0x1f) out[i] = sign | (((x >>> 23) & 0xff) === 0xff && mant ? 0x7e00 : 0x7c00);
    else if (exp <= 0) {
      if (exp < -10) out[i] = sign;
      else {
        const m = (mant | 0x800000) >>> (1 - exp);
        out[i] = sign | ((m + 0x1000) >>> 13);
      }
    } else out[i] = sign | (exp << 10) | ((mant + 0x1000) >>> 13);
  }
  return out;
}

export function fromFloat16(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}
