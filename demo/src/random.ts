// Seeded standard normals for the forward-KL fit's draws from p: splitmix32 for uniforms, Box-Muller
// for normals. The same seed gives the same draws in the same engine.

export interface Normals {
  next(): number;
  uniform(): number;
}

export function normals(seed: number): Normals {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    // (0, 1]: the log below never sees 0.
    return ((z >>> 0) + 1) / 2 ** 32;
  };
  let spare: number | null = null;
  return {
    uniform,
    next() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const r = Math.sqrt(-2 * Math.log(uniform()));
      const t = 2 * Math.PI * uniform();
      spare = r * Math.sin(t);
      return r * Math.cos(t);
    },
  };
}
