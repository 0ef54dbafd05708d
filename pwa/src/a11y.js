// Vant's uploader renders its <input type="file"> without passing attributes on, so a photo
// picker had no accessible name. `v-file-label="text"` on a <van-uploader> names its input.
/** @param {HTMLElement} el @param {{ value: string }} binding */
function name(el, binding) {
  for (const input of el.querySelectorAll("input[type=file]")) input.setAttribute("aria-label", binding.value);
}

export const vFileLabel = { mounted: name, updated: name };

// Vant draws a toast as a popup with role="dialog" and no name, and offers no way to set either:
// a toast is a status message (WCAG 4.1.3), read out without taking the focus. Each toast added
// to the page is made one; Vue leaves the attribute alone afterwards (its vnode's role never
// changes, so it is never patched again).
/** @param {Element} node */
function asStatus(node) {
  if (!(node instanceof HTMLElement) || !node.classList.contains("van-toast")) return;
  node.setAttribute("role", "status");
  node.setAttribute("aria-live", "polite");
  node.removeAttribute("tabindex");
}

export function announceToasts(root = document.body) {
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach((n) => asStatus(/** @type {Element} */ (n)));
  }).observe(root, { childList: true });
}
