// Reductions of per-row results: the 'sum' and 'mean' of a loss over its rows.

// Sum of n f64 values, four accumulators (several partial sums reduce rounding error and the
// dependency chain; Higham 1993, "The accuracy of floating point summation").
export function sum_f64(p: usize, n: i32): f64 {
  let a: f64 = 0, b: f64 = 0, c: f64 = 0, d: f64 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = p + (<usize>i << 3);
    a += load<f64>(at);
    b += load<f64>(at, 8);
    c += load<f64>(at, 16);
    d += load<f64>(at, 24);
  }
  for (; i < n; i++) a += load<f64>(p + (<usize>i << 3));
  return (a + b) + (c + d);
}
