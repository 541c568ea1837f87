// qualkit adjudication view (anywidget): one disagreement between two coders at a time, both codings with
// context, and the team's decision.  Everything from the data is set as text (never as HTML).
const KINDS = { code: "anderer Code", boundaries: "andere Grenzen", missing: "nur eine Codierung" };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render({ model, el: root }) {
  const send = (req) => { model.set("request", { ...req, n: Date.now() }); model.save_changes(); };
  const draw = () => {
    root.replaceChildren();
    const box = el("div", "qk-adj");
    const bar = el("div", "qk-adj-bar");
    bar.append(el("span", "qk-adj-summary", model.get("summary")));
    bar.append(el("span", "qk-adj-msg", model.get("message")));
    box.append(bar);
    const item = model.get("item");
    const total = model.get("total");
    if (!item || !item.document_id) {
      box.append(el("div", "qk-adj-done", total ? "" : "Keine offenen Abweichungen: alles entschieden."));
      root.append(box);
      return;
    }
    const coders = item.coders || ["", ""];
    box.append(el("div", "qk-adj-pos",
      `Abweichung ${model.get("position") + 1} von ${total} · ${item.document_id} · ${KINDS[item.kind] || item.kind}`));
    const ctx = el("div", "qk-adj-text");
    ctx.append(el("span", "qk-ctx", "…" + item.before), el("mark", "qk-adj-seg", item.text), el("span", "qk-ctx", item.after + "…"));
    box.append(ctx);
    const cols = el("div", "qk-adj-cols");
    [["first", 0], ["second", 1]].forEach(([side, i]) => {
      const col = el("div", "qk-adj-col");
      col.dataset.side = side;
      col.append(el("div", "qk-adj-coder", coders[i]));
      const list = item[side] || [];
      if (!list.length) col.append(el("div", "qk-adj-none", "(keine Codierung)"));
      for (const c of list) {
        const chip = el("div", "qk-adj-chip", `${c.code} · ${c.start}–${c.end}`);
        if (c.memo) chip.title = c.memo;
        col.append(chip);
      }
      cols.append(col);
    });
    box.append(cols);
    const buttons = el("div", "qk-adj-buttons");
    const btn = (label, decision, enabled = true) => {
      const b = el("button", "qk-adj-btn", label);
      b.dataset.decision = decision;
      b.disabled = !enabled;
      b.onclick = () => send({ action: "decide", decision });
      buttons.append(b);
    };
    btn(`${coders[0]} übernehmen`, "first", (item.first || []).length > 0);
    btn(`${coders[1]} übernehmen`, "second", (item.second || []).length > 0);
    btn("beide", "both");
    btn("keine Codierung", "none");
    const pick = el("select", "qk-adj-code");
    for (const c of model.get("codes")) pick.append(new Option(c, c));
    const custom = el("button", "qk-adj-btn", "anderer Code");
    custom.dataset.decision = "custom";
    custom.onclick = () => send({ action: "decide", decision: "custom", code: pick.value });
    const skip = el("button", "qk-adj-btn", "überspringen");
    skip.onclick = () => send({ action: "skip" });
    buttons.append(pick, custom, skip);
    box.append(buttons);
    root.append(box);
  };
  for (const name of ["item", "message", "summary", "position", "total"]) model.on(`change:${name}`, draw);
  draw();
}
export default { render };
