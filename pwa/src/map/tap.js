// What a tap on the map opens. A service point's dot is small and sits on a grid: a finger that
// lands near it but on the grid meant the grid, so a dot wins only when the tap is on it or
// within SLOP pixels of its centre (a fingertip), measured as a distance, not a box.

export const SLOP = 12;

/**
 * @template P, G
 * @param {{ x: number, y: number }} tap the tap, in screen pixels
 * @param {{ x: number, y: number, feature: P }[]} dots the service points drawn near it, with their centres in pixels
 * @param {G | null} grid the grid polygon under the finger
 * @returns {{ type: "point", feature: P } | { type: "grid", feature: G } | null}
 */
export function pick(tap, dots, grid, slop = SLOP) {
  let best = null;
  let bestDistance = Infinity;
  for (const dot of dots) {
    const distance = Math.hypot(dot.x - tap.x, dot.y - tap.y);
    if (distance <= slop && distance < bestDistance) [best, bestDistance] = [dot, distance];
  }
  if (best) return { type: "point", feature: best.feature };
  return grid ? { type: "grid", feature: grid } : null;
}
