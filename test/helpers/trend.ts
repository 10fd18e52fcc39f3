/**
 * Theil–Sen slope: the median of the slopes between every pair of points. One GC landing badly, or
 * another process stealing the CPU for a moment, moves a few points; the median of pairwise slopes
 * does not follow them, where a least-squares fit (or a ratio of two readings) would.
 */
export function theilSen(points: ReadonlyArray<{ x: number; y: number }>): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx !== 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  if (slopes.length === 0) return NaN;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length / 2;
  return slopes.length % 2 ? slopes[Math.floor(mid)]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
}
