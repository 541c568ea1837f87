// qualkit coding view (anywidget). All state comes from Python; actions go back as `request`.
// Offsets are Unicode code points (Python str indices); JS strings count UTF-16 units, so every
// slice goes through Array.from().

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function cpLen(s) { return Array.from(s).length; }

function render({ model, el: root }) {
  let lastSel = null;  // {start, end} in code points
  let pop = null;
  let nonce = 0;
  const send = (req) => { nonce += 1; model.set("request", { ...req, nonce }); model.save_changes(); };

  const box = el("div", { class: "qk-root", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  root.append(box);

  function offsetOf(node, off) {
    let e = node.nodeType === 3 ? node.parentElement : node;
    const seg = e && e.closest("[data-off]");
    if (seg) {
      const base = Number(seg.dataset.off);
      if (node.nodeType === 3) return base + cpLen(node.textContent.slice(0, off));
      return base + (off > 0 ? cpLen(seg.textContent) : 0);
    }
    const turn = e && e.closest("[data-start]");
    if (turn) return off > 0 ? Number(turn.dataset.end) : Number(turn.dataset.start);
    return null;
  }

  function captureSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !box.contains(sel.anchorNode)) return;
    const a = offsetOf(sel.anchorNode, sel.anchorOffset);
    const b = offsetOf(sel.focusNode, sel.focusOffset);
    if (a === null || b === null || a === b) return;
    lastSel = { start: Math.min(a, b), end: Math.max(a, b) };
  }

  function applyCode(code, fromKey) {
    const doc = model.get("doc");
    if (lastSel) {
      send({ action: "code", start: lastSel.start, end: lastSel.end, code });
      lastSel = null;
      window.getSelection().removeAllRanges();
    } else if (doc.kind === "survey" && doc.units.length) {
      send({ action: "code_unit", unit: doc.units[0].idx, code, advance: !!fromKey });
    } else {
      model.set("message", "Bitte zuerst Text markieren.");
      model.save_changes();
    }
  }

  function closePop() { if (pop) { pop.remove(); pop = null; } }

  function showPop(c, x, y) {
    closePop();
    const codes = model.get("codes");
    const sel = el("select", {}, ...codes.map((k) => el("option", { value: k.name }, k.name)));
    sel.value = c.code;
    const memo = el("textarea", {}, c.memo || "");
    const pending = c.origin === "auto" && c.status === "pending";
    pop = el("div", { class: "qk-pop", style: `left:${x}px;top:${y}px`, "data-coding": String(c.id) },
      el("div", {}, el("b", {}, c.code)),
      el("div", {}, `Codiert von ${c.coder} · ${c.origin}${c.status !== "active" ? " · " + c.status : ""}`),
      c.score !== null ? el("div", {}, `Score ${c.score.toFixed(2)}: ${c.explanation}`) : null,
      c.anchor !== "ok" ? el("div", { style: "color:#b03a2e" }, `Verankerung: ${c.anchor}`) : null,
      pending ? el("div", {},
        el("button", { class: "qk-accept", onclick: () => { send({ action: "accept", id: c.id }); closePop(); } }, "✓ Annehmen"),
        el("button", { class: "qk-reject", onclick: () => { send({ action: "reject", id: c.id }); closePop(); } }, "✗ Ablehnen")) : null,
      el("div", {}, "Code: ", sel,
        el("button", { onclick: () => { send({ action: "recode", id: c.id, code: sel.value }); closePop(); } }, "ändern")),
      el("div", {}, "Memo:", memo,
        el("button", { onclick: () => { send({ action: "memo", id: c.id, memo: memo.value }); closePop(); } }, "speichern")),
      el("button", { class: "qk-delete", onclick: () => { send({ action: "delete", id: c.id }); closePop(); } }, "löschen"),
      el("button", { onclick: closePop }, "schließen"));
    document.body.append(pop);
  }

  function draw() {
    closePop();
    box.replaceChildren();
    const doc = model.get("doc");
    const codes = model.get("codes");
    const filter = model.get("coder_filter");
    const codings = model.get("codings").filter((c) => !filter || c.coder === filter || c.origin === "auto");
    // toolbar
    const docs = model.get("documents");
    const jump = el("select", { class: "qk-jump", onchange: (e) => send({ action: "open", document: e.target.value }) },
      ...docs.map((d) => el("option", { value: d.id }, d.id)));
    jump.value = doc.id || "";
    const search = el("input", { placeholder: "ID oder Variable=Wert", value: model.get("doc_filter") });
    search.addEventListener("change", () => { model.set("doc_filter", search.value); model.save_changes(); });
    const coderSel = el("select", { class: "qk-coder-filter", onchange: (e) => { model.set("coder_filter", e.target.value); model.save_changes(); } },
      el("option", { value: "" }, "alle Codierenden"), ...model.get("coders").map((c) => el("option", { value: c }, c)));
    coderSel.value = filter;
    box.append(el("div", { class: "qk-bar" },
      el("button", { class: "qk-prev", onclick: () => send({ action: "step", delta: -1 }) }, "◀"),
      jump,
      el("button", { class: "qk-next", onclick: () => send({ action: "step", delta: 1 }) }, "▶"),
      search, coderSel,
      el("button", { class: "qk-refresh", onclick: () => send({ action: "refresh" }) }, "↻ Aktualisieren"),
      el("span", {}, `Codierer/in: ${model.get("coder")}`),
      el("span", { class: "qk-msg" }, model.get("message"))));
    // document
    const pane = el("div", { class: "qk-doc" });
    const vars = Object.entries(doc.variables || {}).map(([k, v]) => `${k}: ${v}`).join(" · ");
    pane.append(el("div", { class: "qk-vars" }, `${doc.id || ""}${doc.question ? " – " + doc.question : ""}${vars ? " · " + vars : ""}`));
    const cps = Array.from(doc.text || "");
    for (const u of doc.units || []) {
      const inU = codings.filter((c) => c.start < u.end && c.end > u.start);
      const cuts = new Set([u.start, u.end]);
      for (const c of inU) { cuts.add(Math.max(u.start, c.start)); cuts.add(Math.min(u.end, c.end)); }
      const pts = [...cuts].sort((a, b) => a - b);
      const text = el("div", { class: "qk-text" });
      for (let i = 0; i < pts.length - 1; i++) {
        const a = pts[i], b = pts[i + 1];
        const cover = inU.filter((c) => c.start <= a && c.end >= b);
        const span = el("span", { "data-off": String(a) }, cps.slice(a, b).join(""));
        if (cover.length) {
          const top = cover[cover.length - 1];
          span.className = "qk-hl" + (top.origin === "auto" && top.status === "pending" ? " qk-pending" : "");
          span.style.background = alpha(top.colour, Math.min(0.25 + 0.15 * cover.length, 0.7));
          span.style.outlineColor = top.colour;
          span.dataset.codings = cover.map((c) => c.id).join(",");
          span.addEventListener("click", (ev) => {
            if (!window.getSelection().isCollapsed) return;
            showPop(top, ev.pageX + 8, ev.pageY + 8);
          });
        }
        text.append(span);
      }
      const margin = el("div", { class: "qk-margin" }, ...inU.map((c) => {
        const chip = el("div", { class: "qk-chip" + (c.origin === "auto" && c.status === "pending" ? " qk-pending" : ""),
          style: `border-color:${c.colour}`, title: `${c.code} (${c.coder})`, "data-coding": String(c.id) },
          `${c.code}${c.status === "pending" ? " ?" : ""}`);
        chip.addEventListener("click", (ev) => showPop(c, ev.pageX - 300, ev.pageY + 8));
        return chip;
      }));
      pane.append(el("div", { class: `qk-turn qk-${u.role}`, "data-start": String(u.start), "data-end": String(u.end), "data-unit": String(u.idx) },
        el("div", { class: "qk-spk" }, u.speaker || (doc.kind === "survey" ? "Antwort" : ""), el("span", { class: "qk-time" }, u.time || "")),
        text, margin));
    }
    pane.addEventListener("mouseup", () => setTimeout(captureSelection, 0));
    // codebook tree
    const tree = el("div", { class: "qk-tree" });
    let dim = null;
    for (const c of codes) {
      if (c.dimension !== dim) { dim = c.dimension; tree.append(el("div", { class: "qk-dim" }, dim)); }
      tree.append(el("button", { class: "qk-code" + (c.parent ? " qk-sub" : ""), "data-code": c.name, title: c.definition,
        onmousedown: (e) => e.preventDefault(), onclick: () => applyCode(c.name, false) },
        el("span", { class: "qk-sw", style: `background:${c.colour}` }), c.name,
        c.shortcut ? el("span", { class: "qk-key" }, c.shortcut) : null));
    }
    box.append(pane, tree);
  }

  box.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const code = model.get("codes").find((c) => c.shortcut && c.shortcut === e.key);
    if (code) { captureSelection(); applyCode(code.name, true); e.preventDefault(); e.stopPropagation(); return; }
    if (e.key === "ArrowRight" && e.altKey) { send({ action: "step", delta: 1 }); e.preventDefault(); }
    if (e.key === "ArrowLeft" && e.altKey) { send({ action: "step", delta: -1 }); e.preventDefault(); }
  });
  for (const t of ["doc", "codings", "documents", "coders", "coder_filter", "message"]) model.on(`change:${t}`, draw);
  draw();
  return () => closePop();
}

export default { render };
