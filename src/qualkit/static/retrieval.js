// qualkit retrieval view (anywidget): coded segments with context on demand.
function render({ model, el: root }) {
  const draw = () => {
    root.replaceChildren();
    const head = document.createElement("div");
    head.className = "qk-bar";
    head.textContent = model.get("title");
    root.append(head);
    for (const r of model.get("rows")) {
      const row = document.createElement("div");
      row.className = "qk-ret-row";
      const meta = document.createElement("div");
      meta.className = "qk-vars";
      meta.textContent = `${r.document} · ${r.code} · ${r.coder}${r.vars ? " · " + r.vars : ""}`;
      const text = document.createElement("div");
      const before = document.createElement("span");
      before.className = "qk-ctx";
      const after = document.createElement("span");
      after.className = "qk-ctx";
      const main = document.createElement("b");
      main.textContent = r.text;
      text.append(before, main, after);
      const ctx = document.createElement("button");
      ctx.textContent = "Kontext";
      ctx.onclick = () => { before.textContent = before.textContent ? "" : "…" + r.before; after.textContent = after.textContent ? "" : r.after + "…"; };
      const open = document.createElement("button");
      open.textContent = "im Dokument öffnen";
      open.onclick = () => { model.set("request", { action: "open", document: r.document, n: Date.now() }); model.save_changes(); };
      row.append(meta, text, ctx, open);
      root.append(row);
    }
  };
  model.on("change:rows", draw);
  draw();
}
export default { render };
