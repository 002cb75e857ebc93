// What the real Mermaid parser (npm `mermaid`, pinned in package.json) reads from each text:
// the configuration its directives set, and every label as the text a browser would show.
// stdin: a JSON array of texts; stdout: a JSON array of {error} or {config, labels: [{type, text}]}.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

// Mermaid turns `#35;` into `ﬂ°°35¶ß` before parsing and into `&#35;` when it draws the HTML label.
const decode = (text) => {
  const area = document.createElement("textarea");
  area.innerHTML = text.replace(/ﬂ°°/g, "&#").replace(/ﬂ°/g, "&").replace(/¶ß/g, ";");
  return area.value;
};

const results = [];
for (const text of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    const { diagramType, config } = await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const labels = [];
    for (const v of diagram.db.getVertices().values()) labels.push({ type: v.labelType, text: decode(v.text) });
    for (const e of diagram.db.getEdges()) labels.push({ type: e.labelType, text: decode(e.text) });
    for (const s of diagram.db.getSubGraphs()) labels.push({ type: s.labelType, text: decode(s.title) });
    results.push({ diagramType, config, labels });
  } catch (err) {
    results.push({ error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(results));
