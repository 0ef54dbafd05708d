import { getJSON } from "../api/client.js";
import { snapshots } from "../offline/db.js";

/** @typedef {import("../api/types.js").Category} Category */

// The category tree, kept on the phone so the report form works offline.
/** @returns {Promise<Category[]>} */
export async function loadCategories() {
  try {
    const list = await getJSON("/api/categories");
    await snapshots.put("categories", list);
    return list;
  } catch (err) {
    const saved = await snapshots.get("categories");
    if (saved) return saved;
    throw err;
  }
}

// For van-cascader: groups with their leaves as children; retired ones take no new case.
/** @param {Category[]} list */
export function asOptions(list) {
  const open = list.filter((c) => !c.retired);
  const groups = open.filter((c) => !c.parent);
  return groups.map((g) => ({
    text: g.name,
    value: g.code,
    children: open.filter((c) => c.parent === g.code).map((c) => ({ text: c.name, value: c.code })),
  }));
}
