import { showConfirmDialog, showToast } from "vant";
import { errorText } from "../api/client.js";
import { claimKept, unclaimed } from "./codes.js";

/**
 * After a resident signs in or up: offers to bring the requests this phone sent without an
 * account into "my requests".
 * @param {(key: string, named?: Record<string, unknown>) => string} t the screen's translator
 * @returns {Promise<boolean>} whether any was claimed
 */
export async function offerClaim(t) {
  const n = unclaimed().length;
  if (!n) return false;
  const yes = await showConfirmDialog({
    title: t("visitor.claimTitle"),
    message: t("visitor.claimAsk", { n }),
    confirmButtonText: t("visitor.claim"),
    cancelButtonText: t("visitor.later"),
  }).then(
    () => true,
    () => false,
  );
  if (!yes) return false;
  try {
    const claimed = await claimKept();
    showToast(t("visitor.claimed", { n: claimed }));
    return claimed > 0;
  } catch (err) {
    showToast(errorText(err));
    return false;
  }
}
