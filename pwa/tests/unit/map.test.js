import { describe, expect, it } from "vitest";
import { featureAt } from "../../src/map/locate.js";
import { pick } from "../../src/map/tap.js";
import { distanceText, durationText } from "../../src/live/units.js";

/**
 * @param {string} code
 * @param {number} x0
 * @param {number} y0
 * @param {number} size
 */
const square = (code, x0, y0, size) => ({
  type: "Feature",
  properties: { code },
  geometry: {
    type: "Polygon",
    coordinates: [
      [
        [x0, y0],
        [x0 + size, y0],
        [x0 + size, y0 + size],
        [x0, y0 + size],
        [x0, y0],
      ],
    ],
  },
});

describe("featureAt", () => {
  const grids = {
    features: [
      square("a", 0, 0, 1),
      {
        type: "Feature",
        properties: { code: "b" },
        // A square with a hole, and a second part.
        geometry: {
          type: "MultiPolygon",
          coordinates: [
            [
              [[2, 0], [5, 0], [5, 3], [2, 3], [2, 0]],
              [[3, 1], [4, 1], [4, 2], [3, 2], [3, 1]],
            ],
            [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]],
          ],
        },
      },
    ],
  };

  it("finds the polygon a point lies in, holes and parts included", () => {
    expect(featureAt(grids, 0.5, 0.5)?.properties.code).toBe("a");
    expect(featureAt(grids, 2.5, 2.5)?.properties.code).toBe("b");
    expect(featureAt(grids, 10.5, 10.5)?.properties.code).toBe("b");
    expect(featureAt(grids, 3.5, 1.5)).toBeNull(); // in the hole
    expect(featureAt(grids, 7, 7)).toBeNull();
  });
});

describe("pick", () => {
  const grid = { code: "g" };

  it("opens the grid under the finger unless a dot is within the slop of its centre", () => {
    const dot = { x: 100, y: 100, feature: { name: "驿站" } };
    expect(pick({ x: 110, y: 110 }, [dot], grid)).toEqual({ type: "grid", feature: grid }); // 14 px
    expect(pick({ x: 108, y: 106 }, [dot], grid)).toEqual({ type: "point", feature: dot.feature }); // 10 px
    expect(pick({ x: 300, y: 300 }, [], null)).toBeNull();
  });

  it("takes the nearest of several dots", () => {
    const far = { x: 90, y: 100, feature: "far" };
    const near = { x: 104, y: 100, feature: "near" };
    expect(pick({ x: 100, y: 100 }, [far, near], grid)?.feature).toBe("near");
  });
});

describe("a patrol's words", () => {
  /** @type {import("../../src/live/units.js").Translate} */
  const t = (key, values) => `${key}:${JSON.stringify(values)}`;

  it("speaks metres, kilometres, minutes and hours", () => {
    expect(distanceText(350.4, t)).toBe('track.m:{"n":350}');
    expect(distanceText(1234, t)).toBe('track.km:{"n":"1.2"}');
    expect(durationText(35 * 60 + 10, t)).toBe('track.min:{"n":35}');
    expect(durationText(65 * 60, t)).toBe('track.hourMin:{"h":1,"n":5}');
  });
});
