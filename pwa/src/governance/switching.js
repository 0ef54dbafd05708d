// Pure helpers of the emergency switch screen (平急转换).

/**
 * The areas an admin may switch, from /api/areas/tree: each node in tree order with its depth
 * below the admin's own area, which comes first (a city switches a whole district, a district a
 * street or a single community).
 * @param {{ code: string, name: string, children?: any[] }[]} tree
 * @returns {{ code: string, name: string, depth: number }[]}
 */
export function areaOptions(tree) {
  /** @type {{ code: string, name: string, depth: number }[]} */
  const out = [];
  /** @param {{ code: string, name: string, children?: any[] }[]} nodes @param {number} depth */
  const walk = (nodes, depth) => {
    for (const node of nodes) {
      out.push({ code: node.code, name: node.name, depth });
      walk(node.children ?? [], depth + 1);
    }
  };
  walk(tree, 0);
  return out;
}

/**
 * A time-limit factor as the percentage of the peacetime limit it leaves: 0.5 → 50.
 * @param {number | string} factor
 */
export const percent = (factor) => Math.round(Number(factor) * 100);
