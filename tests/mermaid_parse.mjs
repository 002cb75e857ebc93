// Parses Mermaid texts with the real Mermaid parser (npm `mermaid`, pinned in package.json).
// Mermaid needs a DOM even to parse (DOMPurify), so jsdom provides one.
// stdin: a JSON array of texts; stdout: a JSON array with null (valid) or the parse error of each.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const results = [];
for (const text of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    const parsed = await mermaid.parse(text);
    results.push(parsed.diagramType === "flowchart-v2" ? null : `diagram type ${parsed.diagramType}`);
  } catch (err) {
    results.push(String(err.message ?? err));
  }
}
process.stdout.write(JSON.stringify(results));
