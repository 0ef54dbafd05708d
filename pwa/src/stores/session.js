import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { ApiError, getJSON, postJSON, useToken } from "../api/client.js";
import { drain as drainOutbox, useToken as useOutboxToken } from "../offline/outbox.js";

const KEY = "wangge.session";

// Roles as the backend names them; what each one sees first in the app.
export const FIELD_ROLES = ["grid_leader", "grid_police", "grid_worker"];
export const CENTRE_ROLES = ["community_staff", "street_staff", "district_admin", "city_admin"];

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null");
    return saved && saved.expiresAt * 1000 > Date.now() ? saved : null;
  } catch {
    return null;
  }
}

export const useSession = defineStore("session", () => {
  const saved = load();
  const token = ref(saved?.token ?? null);
  const expiresAt = ref(saved?.expiresAt ?? 0);
  const me = ref(saved?.me ?? null);
  // Signed in with a one-time password: the app shows nothing but the change-password screen.
  const mustChangePassword = ref(saved?.mustChangePassword ?? false);

  useToken(() => token.value);
  useOutboxToken(
    () => token.value,
    () => me.value?.id ?? null,
  );

  const role = computed(() => me.value?.role ?? null);
  const isResident = computed(() => role.value === "resident");
  const isField = computed(() => FIELD_ROLES.includes(role.value));
  const isCentre = computed(() => CENTRE_ROLES.includes(role.value));
  const isHotline = computed(() => role.value === "hotline_operator"); // 12345 受理员
  const home = computed(() => {
    if (!token.value) return "/sign-in";
    return isResident.value ? "/mine" : isCentre.value ? "/screen" : isHotline.value ? "/hotline" : "/inbox";
  });
  const gridCodes = computed(() => [
    ...new Set((me.value?.posts ?? []).map((/** @type {{ grid_code: string }} */ p) => p.grid_code)),
  ]);

  function persist() {
    localStorage.setItem(
      KEY,
      JSON.stringify({
        token: token.value,
        expiresAt: expiresAt.value,
        me: me.value,
        mustChangePassword: mustChangePassword.value,
      }),
    );
  }

  /**
   * @param {string} phone
   * @param {string} password
   */
  async function signIn(phone, password) {
    const answer = await postJSON("/api/auth/sign-in", { phone, password });
    token.value = answer.token;
    expiresAt.value = answer.expires_at;
    me.value = answer.person;
    mustChangePassword.value = answer.must_change_password ?? false;
    persist();
    if (!mustChangePassword.value) drainOutbox({ force: true }); // queued before signing out
  }

  /**
   * One's own new password; the answer's token replaces every earlier one.
   * @param {string} oldPassword
   * @param {string} newPassword
   */
  async function changePassword(oldPassword, newPassword) {
    const answer = await postJSON("/api/auth/password", {
      old_password: oldPassword,
      new_password: newPassword,
    });
    token.value = answer.token;
    expiresAt.value = answer.expires_at;
    me.value = answer.person;
    mustChangePassword.value = false;
    persist();
    drainOutbox({ force: true });
  }

  // Refreshes who I am when online; offline, the saved copy stands.
  async function refresh() {
    if (!token.value) return;
    try {
      me.value = await getJSON("/api/me");
      persist();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signOut();
    }
  }

  // revoke: the person chose to sign out, so the server voids the token too (best effort:
  // offline, the token is forgotten here and lapses at its expiry).
  function signOut({ revoke = false } = {}) {
    if (revoke && token.value) postJSON("/api/auth/sign-out", null).catch(() => {});
    token.value = null;
    me.value = null;
    mustChangePassword.value = false;
    expiresAt.value = 0;
    localStorage.removeItem(KEY);
  }

  return {
    token,
    me,
    role,
    home,
    isResident,
    isField,
    isCentre,
    isHotline,
    gridCodes,
    mustChangePassword,
    signIn,
    changePassword,
    refresh,
    signOut,
  };
});
