// The front-end lint gate (`make lint`): ESLint's recommended rules on our own sources, which
// are ES modules run by the browser (the customer SDK, the demo bank, the consoles); build.mjs
// runs under Node. The bundles esbuild writes (dist/) and node_modules are not ours to lint.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/", "var/", "sdk/dist/", "agent_console/dist/"] },
  js.configs.recommended,
  {
    files: ["sdk/**/*.js", "demo_bank/web/**/*.js", "agent_console/web/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
