// The web console's script: a browser module with no build step and no dependency. ESLint's
// recommended rules, plus the ones that keep it honest under the page's strict CSP and with
// text from the API (never HTML). Every rule turned off is in lint-skips.yaml with its reason.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "Render API text with textContent, never as HTML." },
        { property: "outerHTML", message: "Render API text with textContent, never as HTML." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='insertAdjacentHTML']",
          message: "Render API text with textContent, never as HTML.",
        },
      ],
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
