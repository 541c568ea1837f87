// qualkit retrieval view (anywidget): coded segments with context on demand.  The codes and their
// combination are chosen here (`chosen`, `mode`); Python runs the retrieval again on every change and
// whenever the linked coding view's codings change.  "im Dokument öffnen" scrolls the coding view to the
// segment and marks it.
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function render({ model, el: root }) {
  let n = 0;
  const send = (req) => { n += 1; model.send({ ...req, n: `${Date.now()}-${n}` }); };
  const choose = el("details", { class: "qk-ret-choose" });
  const head = el("div", { class: "qk-bar" });
  const list = el("div", { class: "qk-ret-list" });
  root.append(head, choose, list);

  function drawChooser() {
    const chosen = new Set(model.get("chosen"));
    const mode = el("select", { class: "qk-ret-mode", onchange: (e) => { model.set("mode", e.target.value); model.save_changes(); } },
      el("option", { value: "any" }, "einer der Codes (ODER)"), el("option", { value: "all" }, "alle Codes im selben Abschnitt (UND)"));
    mode.value = model.get("mode");
    const boxes = model.get("all_codes").map((c) => {
      const cb = el("input", { type: "checkbox", class: "qk-ret-code", "data-code": c.name });
      cb.checked = chosen.has(c.name);
      cb.addEventListener("change", () => {
        const now = new Set(model.get("chosen"));
        if (cb.checked) now.add(c.name); else now.delete(c.name);
        model.set("chosen", model.get("all_codes").map((k) => k.name).filter((k) => now.has(k)));
        model.save_changes();
      });
      return el("label", { style: c.parent ? "padding-left:14px" : "font-weight:bold" }, cb, c.name);
    });
    const open = choose.open;
    choose.replaceChildren(el("summary", {}, "Codes wählen"), el("div", {}, "Verknüpfung: ", mode),
      el("div", { class: "qk-ret-codes" }, ...boxes));
    choose.open = open;
  }

  function draw() {
    head.replaceChildren(el("span", { class: "qk-ret-title" }, model.get("title")),
      el("button", { class: "qk-ret-refresh", onclick: () => send({ action: "refresh" }) }, "↻"));
    list.replaceChildren();
    for (const r of model.get("rows")) {
      const before = el("span", { class: "qk-ctx" }), after = el("span", { class: "qk-ctx" });
      const ctx = el("button", { onclick: () => {
        before.textContent = before.textContent ? "" : "…" + r.before;
        after.textContent = after.textContent ? "" : r.after + "…";
      } }, "Kontext");
      const open = el("button", { class: "qk-ret-open",
        onclick: () => send({ action: "open", document: r.document, start: r.start, end: r.end }) }, "im Dokument öffnen");
      list.append(el("div", { class: "qk-ret-row", "data-coding": String(r.id) },
        el("div", { class: "qk-vars" }, `${r.document} · ${r.code} · ${r.coder}${r.vars ? " · " + r.vars : ""}${r.memo ? " · ✎ " + r.memo : ""}`),
        el("div", {}, before, el("b", {}, r.text), after), ctx, open));
    }
  }
  model.on("change:rows", draw);
  model.on("change:title", draw);
  model.on("change:chosen", drawChooser);
  model.on("change:mode", drawChooser);
  drawChooser();
  draw();
}
export default { render };
