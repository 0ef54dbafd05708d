import { describe, expect, it } from "vitest";
import { NEEDS, OPTIONAL_REASON, transitionBody } from "../../src/cases/actionForm.js";
import { ACTION } from "../../src/cases/labels.js";

describe("the moves' forms", () => {
  it("send each move's payload with numbers as numbers", () => {
    expect(transitionBody("transfer", { target_code: " 15030200100102 ", reason: "不归本网格", comment: "x" })).toEqual({
      action: "transfer",
      target_code: "15030200100102",
      reason: "不归本网格",
    });
    expect(transitionBody("merge", { main_case: "42", reason: "" })).toEqual({ action: "merge", main_case: 42 });
    expect(transitionBody("add_department", { department: "zj" })).toEqual({ action: "add_department", department: "zj" });
    expect(transitionBody("resume", {})).toEqual({ action: "resume" });
  });

  it("name every action that has a form", () => {
    /** @type {Record<string, string>} */
    const labels = ACTION;
    for (const name of Object.keys(NEEDS)) expect(labels[name], name).toBeTruthy();
    expect(OPTIONAL_REASON.has("pause")).toBe(false);
  });
});
