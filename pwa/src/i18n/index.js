import { Locale } from "vant";
import enUS from "vant/es/locale/lang/en-US";
import zhCN from "vant/es/locale/lang/zh-CN";
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

// Vant's own words (a dialog's 确认, a list's 加载中) follow the app's language.
/** @param {string} locale */
function useVantLocale(locale) {
  if (locale === "en") Locale.use("en-US", enUS);
  else Locale.use("zh-CN", zhCN);
}
useVantLocale(i18n.global.locale.value);

/** @param {"zh-CN" | "en"} locale */
export function setLocale(locale) {
  i18n.global.locale.value = locale;
  useVantLocale(locale);
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}

/**
 * One of the `labels` tables (the API's codes by name) in the language shown now, read like a
 * plain object (`STATUS[code]`). Each read looks at the locale, so a template that reads it
 * follows a switch of language; a code missing in English shows its Chinese name.
 * @param {keyof typeof zh.labels} name
 * @returns {Record<string, string>}
 */
export function labelTable(name) {
  const table = () => /** @type {Record<string, string>} */ ((i18n.global.locale.value === "en" ? en : zh).labels[name]);
  const chinese = /** @type {Record<string, string>} */ (zh.labels[name]);
  return new Proxy(
    {},
    {
      get: (_, key) => (typeof key === "string" ? (table()[key] ?? chinese[key]) : undefined),
      has: (_, key) => key in chinese,
      ownKeys: () => Reflect.ownKeys(chinese),
      getOwnPropertyDescriptor: (_, key) =>
        typeof key === "string" && key in chinese
          ? { enumerable: true, configurable: true, value: table()[key] ?? chinese[key] }
          : undefined,
    },
  );
}

/**
 * A date and time as the UI's language writes it.
 * @param {string | number | Date} at
 */
export function dateTime(at) {
  return new Date(at).toLocaleString(i18n.global.locale.value === "en" ? "en-GB" : "zh-CN");
}
