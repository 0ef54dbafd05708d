import { afterEach, describe, expect, it } from "vitest";
import { ACTION, STATUS } from "../../src/cases/labels.js";
import en from "../../src/i18n/en.js";
import { i18n } from "../../src/i18n/index.js";
import zh from "../../src/i18n/zh.js";
import { areaLevelLabel, POST_LABEL } from "../../src/labels.js";

/**
 * Every key path of a message tree, "a.b.c".
 * @param {Record<string, any>} tree
 * @returns {string[]}
 */
function keys(tree, prefix = "") {
  return Object.entries(tree).flatMap(([key, value]) =>
    value && typeof value === "object" ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;

describe("the English messages", () => {
  afterEach(() => {
    i18n.global.locale.value = "zh-CN";
  });

  it("have every key of the Chinese ones, and no other", () => {
    expect(keys(en).filter((k) => !keys(zh).includes(k))).toEqual([]);
    expect(keys(zh).filter((k) => !keys(en).includes(k))).toEqual([]);
  });

  it("hold no Chinese character, but for the switch to Chinese", () => {
    const chinese = keys(en).filter((k) => k !== "app.language" && CJK.test(k.split(".").reduce((t, p) => t[p], /** @type {any} */ (en))));
    expect(chinese).toEqual([]);
  });

  it("name the API's codes in the language shown now", () => {
    expect([STATUS.submitted, ACTION.accept, POST_LABEL.leader]).toEqual(["待受理", "受理立案", "网格长"]);
    i18n.global.locale.value = "en";
    expect([STATUS.submitted, ACTION.accept, POST_LABEL.leader]).toEqual(["Submitted", "Accept", "Grid leader"]);
    expect(areaLevelLabel({ level: "community", code: "150302001201" })).toBe("Village");
    expect(Object.keys(STATUS)).toContain("voided");
    expect(STATUS.nonsense).toBeUndefined();
  });
});
