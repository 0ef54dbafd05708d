// Function-style Vant APIs (showToast, showConfirmDialog) need their styles imported by hand;
// components used in templates get theirs from the auto-import resolver.
import "vant/es/toast/style";
import "vant/es/dialog/style";
import { createPinia } from "pinia";
import { createApp } from "vue";
import App from "./App.vue";
import { i18n } from "./i18n/index.js";
import { router } from "./router.js";
// Listens to the outbox from the start: a visitor's tracking code is kept whenever it arrives.
import "./cases/codes.js";

createApp(App).use(createPinia()).use(i18n).use(router).mount("#app");
