// Function-style Vant APIs (showToast, showConfirmDialog) need their styles imported by hand;
// components used in templates get theirs from the auto-import resolver.
import "vant/es/toast/style";
import "vant/es/dialog/style";
// After Vant's base styles: the theme's contrast and tap-target sizes (see the file).
import "./styles/theme.css";
import { createPinia } from "pinia";
import { createApp } from "vue";
import { nameVantControls } from "./a11y.js";
import App from "./App.vue";
import { i18n } from "./i18n/index.js";
import { router } from "./router.js";
// Listens to the outbox from the start: a visitor's tracking code is kept whenever it arrives.
import "./cases/codes.js";

createApp(App).use(createPinia()).use(i18n).use(router).mount("#app");
nameVantControls();
// The page's language as the app speaks it (a screen reader picks its voice by it).
document.documentElement.lang = i18n.global.locale.value;
