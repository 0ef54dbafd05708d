import { createI18n } from "vue-i18n";
import en from "./en.js";
import zh from "./zh.js";

const KEY = "wangge.locale";

export const i18n = createI18n({
  legacy: false,
  // No localStorage where the API client is unit-tested in Node: the app's own language then.
  locale: globalThis.localStorage?.getItem(KEY) ?? "zh-CN",
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zh, en },
});

/** @param {"zh-CN" | "en"} locale */
export function setLocale(locale) {
  i18n.global.locale.value = locale;
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}
