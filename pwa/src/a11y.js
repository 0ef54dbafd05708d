import { i18n } from "./i18n/index.js";

// Vant's uploader renders its <input type="file"> without passing attributes on, so a photo
// picker had no accessible name. `v-file-label="text"` on a <van-uploader> names its input.
/** @param {HTMLElement} el @param {{ value: string }} binding */
function name(el, binding) {
  for (const input of el.querySelectorAll("input[type=file]")) input.setAttribute("aria-label", binding.value);
}

export const vFileLabel = { mounted: name, updated: name };

// What Vant draws without a name or the right role, and offers no prop for, put right as it
// enters the page:
// - a toast is a popup with role="dialog" and no name; it is a status message (WCAG 4.1.3),
//   read out without taking the focus;
// - a closeable popup's cross, and the overlay that closes a popup on a tap, are role="button"
//   with no name: both are named 关闭/Close;
// - a popup is named by its first heading (aria-labelledby, so the name follows the heading);
// - a dialog's aria-labelledby holds its title's or message's text instead of an element's id
//   (Vant 4.10): it is pointed at the element that shows that text.
// - a stepper's − and + are buttons with no text and its input has no label: the buttons are
//   named 减少/增加 (Decrease/Increase) and the input by the label of the field around it.
// Vue sets none of these attributes except the dialog's, so it never undoes the others.
let ids = 0;

/** @param {Element} el */
function idOf(el) {
  if (!el.id) el.id = `a11y-${++ids}`;
  return el.id;
}

/** @param {Element} popup */
function nameByHeading(popup) {
  if (popup.matches(".van-toast, .van-dialog") || popup.hasAttribute("aria-label")) return;
  const heading = popup.querySelector("h1, h2, h3, .van-cascader__title");
  if (heading) popup.setAttribute("aria-labelledby", idOf(heading));
}

/** @param {Element} dialog */
function nameDialog(dialog) {
  const named = dialog.getAttribute("aria-labelledby");
  if (named && document.getElementById(named)) return;
  const label = dialog.querySelector(".van-dialog__header, .van-dialog__message");
  if (label) dialog.setAttribute("aria-labelledby", idOf(label));
}

/** @param {Element} stepper */
function nameStepper(stepper) {
  const t = i18n.global.t;
  stepper.querySelector(".van-stepper__minus")?.setAttribute("aria-label", t("app.decrease"));
  stepper.querySelector(".van-stepper__plus")?.setAttribute("aria-label", t("app.increase"));
  const label = stepper.closest(".van-field")?.querySelector(".van-field__label");
  if (label) stepper.querySelector(".van-stepper__input")?.setAttribute("aria-labelledby", idOf(label));
}

/** @param {Node} node */
function fix(node) {
  if (!(node instanceof HTMLElement)) return;
  if (node.classList.contains("van-toast")) {
    node.setAttribute("role", "status");
    node.setAttribute("aria-live", "polite");
    node.removeAttribute("tabindex");
    return;
  }
  const within = (/** @type {string} */ selector) => [
    ...(node.matches(selector) ? [node] : []),
    ...node.querySelectorAll(selector),
  ];
  for (const el of within(".van-popup__close-icon, .van-overlay[role=button]")) {
    el.setAttribute("aria-label", i18n.global.t("app.close"));
  }
  for (const popup of within(".van-popup[role=dialog]")) nameByHeading(popup);
  for (const dialog of within(".van-dialog")) nameDialog(dialog);
  for (const stepper of within(".van-stepper")) nameStepper(stepper);
  // A heading that came later than its popup (shown under a v-if).
  const popup = node.closest(".van-popup[role=dialog]");
  if (popup && popup !== node) nameByHeading(popup);
}

export function nameVantControls(root = document.body) {
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") {
        if (change.target instanceof HTMLElement && change.target.matches(".van-dialog")) nameDialog(change.target);
      } else change.addedNodes.forEach(fix);
    }
  }).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-labelledby"] });
}
