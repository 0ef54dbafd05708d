import { createI18n } from "vue-i18n";
import en from "./en.js";
import zh from "./zh.js";

const KEY = "wangge.locale";

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem(KEY) ?? "zh-CN",
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zh, en },
});

export function setLocale(locale) {
  i18n.global.locale.value = locale;
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}
