// The axes of a 2-D Gaussian's one-sd ellipse: the square roots of its covariance's eigenvalues and
// the angle of the major axis.

export function ellipseOf(c: readonly number[]): { major: number; minor: number; angle: number } {
  const a = c[0]!;
  const b = c[1]!;
  const d = c[3]!;
  const mid = (a + d) / 2;
  const half = Math.hypot((a - d) / 2, b);
  return {
    major: Math.sqrt(Math.max(0, mid + half)),
    minor: Math.sqrt(Math.max(0, mid - half)),
    angle: 0.5 * Math.atan2(2 * b, a - d),
  };
}
