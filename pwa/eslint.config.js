import js from "@eslint/js";
import pluginVue from "eslint-plugin-vue";
import globals from "globals";

// `npm run lint`: ESLint's recommended rules and eslint-plugin-vue's recommended ones (Vue 3),
// with no warning let through.
export default [
  { ignores: ["dist/**", "dev-dist/**", "node_modules/**", "public/**"] },
  js.configs.recommended,
  ...pluginVue.configs["flat/recommended"],
  {
    files: ["src/**/*.{js,vue}", "tests/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      // Where a template breaks its lines is layout, not correctness: the templates are laid out
      // Prettier's way (long lines, `>` on the closing tag's line), which these rules fight.
      // The same five are off in eslint-config-prettier. Every other recommended rule holds.
      "vue/max-attributes-per-line": "off",
      "vue/singleline-html-element-content-newline": "off",
      "vue/multiline-html-element-content-newline": "off",
      "vue/html-indent": "off",
      "vue/html-closing-bracket-newline": "off",
      // "Sparkline" is one word in English, and no HTML element will ever take the name.
      "vue/multi-word-component-names": ["error", { ignores: ["Sparkline"] }],
    },
  },
  {
    files: ["vite.config.js", "eslint.config.js", "vitest.config.js", "tests/**/*.js", "src/**/*.test.js"],
    languageOptions: { globals: { ...globals.node } },
  },
];
