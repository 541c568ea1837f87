// qualkit coding view (anywidget). All state comes from Python; actions go back as messages (`model.send`) and
// are answered in `reply`.  Rendering is incremental: bar, document pane and codebook tree are built once per document;
// a change of codings re-renders only the turns whose codings changed and the tree's counts, so scroll
// positions and the selection survive every action.
// Python sends the lists (codings, documents, counts, coders) whole only when a document opens or the view
// reloads (and bumps `revision`); after each action the reply carries a delta (codings added, changed or
// removed, changed counts and progress), which every browser on the notebook applies to its copies.
// Offsets are Unicode code points (Python str indices); JS strings count UTF-16 units, so every slice goes
// through Array.from().  The rules for "uncoded" mirror qualkit/navigation.py.

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

const cpLen = (s) => Array.from(s).length;
const isPending = (c) => c.origin === "auto" && c.status === "pending";
const counts = (c) => c.status !== "rejected" && c.status !== "pending";

function stored(key, make) {  // localStorage may be unavailable (privacy settings): fall back to memory
  try {
    let v = window.localStorage.getItem(key);
    if (v === null && make) { v = make(); window.localStorage.setItem(key, v); }
    return v;
  } catch (e) { return make ? make() : null; }
}
function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* memory only */ } }
const CLIENT = stored("qualkit-client", () =>
  (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now());

function render({ model, el: root }) {
  let myName = stored("qualkit-coder") || "";
  let lastSel = null;        // {start, end} in code points
  let pop = null;            // the open popup
  let nonce = 0;
  const sent = new Map();    // nonce -> {req, t0}
  const timings = (window.__qkTimings = window.__qkTimings || []);
  let turnEls = new Map();   // unit idx -> element
  let turnSig = new Map();   // unit idx -> signature of what it shows
  let active = new Set();    // activated codes (only their codings are shown)
  let level = "";            // parent code whose subcodes the number keys choose
  let cursor = -1;           // unit idx last navigated to
  let lastGiven = null;      // survey mode: {document, code}
  let hitsHere = [], hitIdx = -1;
  // the page's copies of the lists: taken whole from the model, then kept up to date by the replies' deltas
  let codings = [], docs = [], totals = {}, coderList = [], seenRev = null, drawnDoc = null, docsTaken = 0;
  function takeWhole() {
    seenRev = model.get("revision"); docsTaken += 1;
    codings = model.get("codings") || []; docs = model.get("documents") || [];
    totals = { ...(model.get("code_counts") || {}) }; coderList = model.get("coders") || [];
  }
  takeWhole();

  const send = (req) => {
    nonce += 1;
    const full = { ...req, nonce: `${CLIENT}:${nonce}`, client: CLIENT, coder: myName };
    sent.set(full.nonce, { req, t0: performance.now() });
    model.send(full);  // a message, not a trait: quick key presses are never merged by the front end
    return full.nonce;
  };

  const box = el("div", { class: "qk-root", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  root.classList.add("qk-host");  // the container the layout adapts to (narrow notebooks)
  root.append(box);
  const bar = el("div", { class: "qk-bar" });
  const hitsBox = el("div", { class: "qk-hits" });
  const nextBox = el("div", { class: "qk-nextlist" });
  const pane = el("div", { class: "qk-doc" });
  const split = el("div", { class: "qk-split", title: "Breite ziehen" });
  const tree = el("div", { class: "qk-tree" });
  const msg = el("span", { class: "qk-msg", role: "status" });
  box.append(bar, hitsBox, nextBox, pane, split, tree);

  // -- offsets <-> DOM -------------------------------------------------------------------------
  function offsetOf(node, off) {
    const e = node.nodeType === 3 ? node.parentElement : node;
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

  function domPoint(off) {
    for (const span of pane.querySelectorAll(".qk-text [data-off]")) {
      const base = Number(span.dataset.off), cps = Array.from(span.textContent);
      if (off >= base && off <= base + cps.length && span.firstChild) {
        return [span.firstChild, cps.slice(0, off - base).join("").length];
      }
    }
    return null;
  }

  function rangeOf(start, end) {
    const a = domPoint(start), b = domPoint(end);
    if (!a || !b) return null;
    const r = document.createRange();
    r.setStart(...a); r.setEnd(...b);
    return r;
  }

  function captureSelection() {
    const sel = window.getSelection();
    if (!sel || !pane.contains(sel.anchorNode)) return;
    if (sel.isCollapsed) { lastSel = null; return; }
    const a = offsetOf(sel.anchorNode, sel.anchorOffset);
    const b = offsetOf(sel.focusNode, sel.focusOffset);
    if (a === null || b === null || a === b) return;
    lastSel = { start: Math.min(a, b), end: Math.max(a, b) };
  }

  function restoreSelection() {
    if (!lastSel) return;
    const r = rangeOf(lastSel.start, lastSel.end);
    if (!r) return;
    const sel = window.getSelection();
    sel.removeAllRanges(); sel.addRange(r);
  }

  function scrollPaneTo(rect) {  // keep the notebook where it is: only the pane scrolls
    const p = pane.getBoundingClientRect();
    if (rect.top < p.top + 20 || rect.bottom > p.bottom - 20) pane.scrollTop += rect.top - p.top - pane.clientHeight / 3;
  }

  // -- messages and the coder's name -----------------------------------------------------------
  function say(text, undo) {
    msg.replaceChildren(text || "");
    if (undo) msg.append(" ", el("button", { class: "qk-undo-toast", onclick: () => send({ action: "undo" }) }, "Rückgängig"));
  }

  function askName(retry) {
    box.querySelector(".qk-who")?.remove();
    const input = el("input", { class: "qk-who-name", placeholder: "Kürzel, z. B. ab", value: myName });
    const ok = () => {
      const v = input.value.trim();
      if (!v) return;
      myName = v; store("qualkit-coder", v); who.remove(); drawBar();
      if (retry) send(retry); else send({ action: "hello" });
      box.focus({ preventScroll: true });
    };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") ok(); e.stopPropagation(); });
    const who = el("div", { class: "qk-who" }, el("b", {}, "Wer codiert in diesem Browser?"),
      " Das Notebook ist in einem zweiten Browser geöffnet; jede Person codiert unter ihrem Namen. ",
      input, el("button", { class: "qk-who-ok", onclick: ok }, "OK"));
    box.prepend(who);
    input.focus();
  }

  // -- coding ----------------------------------------------------------------------------------
  function applyCode(code, fromKey) {
    const doc = model.get("doc");
    if (lastSel) {
      send({ action: "code", start: lastSel.start, end: lastSel.end, code });
    } else if (doc.kind === "survey" && doc.units.length) {
      send({ action: "code_unit", unit: doc.units[0].idx, code, advance: !!fromKey });
    } else {
      say("Bitte zuerst Text markieren.");
    }
  }

  function closePop() {
    if (pop) { pop.remove(); pop = null; box.focus({ preventScroll: true }); }
  }

  function codePicker(current) {  // hierarchical: dimensions as groups, subcodes indented under their parent
    const sel = el("select", { class: "qk-picker" });
    let group = null, dim = null;
    for (const k of model.get("codes")) {
      if (k.dimension !== dim) { dim = k.dimension; group = el("optgroup", { label: dim }); sel.append(group); }
      group.append(el("option", { value: k.name }, (k.parent ? "\u00a0\u00a0\u00a0– " : "") + k.name));
    }
    sel.value = current;
    return sel;
  }

  function place(p, x, y) {
    document.body.append(p);
    const w = p.offsetWidth, h = p.offsetHeight;
    p.style.left = `${Math.max(4, Math.min(x, window.scrollX + window.innerWidth - w - 8))}px`;
    p.style.top = `${Math.max(4, Math.min(y, window.scrollY + window.innerHeight - h - 8))}px`;
  }

  function showChooser(cover, x, y) {  // an overlap: every coding reachable from the text
    closePop();
    pop = el("div", { class: "qk-pop qk-choose" }, el("div", {}, el("b", {}, `${cover.length} Codierungen hier:`)),
      ...cover.map((c) => el("button", { class: "qk-choice", "data-coding": String(c.id),
        style: `border-left:5px solid ${c.colour}`, onclick: () => showPop(c, x, y) },
        `${c.code} (${c.coder})${c.memo ? " ✎" : ""}${isPending(c) ? " ?" : ""}`)));
    place(pop, x, y);
  }

  function showPop(c, x, y) {
    closePop();
    const sel = codePicker(c.code);
    const memo = el("textarea", { class: "qk-memo" }, c.memo || "");
    const expect = { code: c.code, memo: c.memo || "" };
    const wait = (req) => { const n = send({ ...req, expect }); p.dataset.wait = n; p.classList.add("qk-busy"); };
    const p = el("div", { class: "qk-pop", "data-coding": String(c.id) },
      el("div", {}, el("span", { class: "qk-sw", style: `background:${c.colour}` }), " ", el("b", {}, c.code)),
      el("div", {}, `Codiert von ${c.coder} · ${c.origin}${c.status !== "active" ? " · " + c.status : ""}`),
      c.score !== null ? el("div", {}, `Score ${c.score.toFixed(2)}: ${c.explanation}`) : null,
      c.anchor !== "ok" ? el("div", { style: "color:#b03a2e" }, `Verankerung: ${c.anchor}`) : null,
      isPending(c) ? el("div", {},
        el("button", { class: "qk-accept", onclick: () => wait({ action: "accept", id: c.id }) }, "✓ Annehmen"),
        el("button", { class: "qk-reject", onclick: () => wait({ action: "reject", id: c.id }) }, "✗ Ablehnen")) : null,
      el("div", {}, "Code: ", sel,
        el("button", { class: "qk-recode", onclick: () => wait({ action: "recode", id: c.id, code: sel.value }) }, "ändern")),
      el("div", {}, "Memo:", memo,
        el("button", { class: "qk-save-memo", onclick: () => wait({ action: "memo", id: c.id, memo: memo.value }) }, "speichern")),
      el("div", { class: "qk-conflict" }),
      el("button", { class: "qk-delete", onclick: () => wait({ action: "delete", id: c.id }) }, "löschen"),
      el("button", { class: "qk-close", onclick: closePop }, "schließen (Esc)"));
    pop = p;
    place(p, x, y);
  }

  // -- the document ----------------------------------------------------------------------------
  function visibleCodings() {
    const filter = model.get("coder_filter");
    return codings.filter((c) => (!filter || c.coder === filter || c.origin === "auto")
      && (!active.size || active.has(c.code)));
  }

  function renderTurn(u, inU, doc, cps, focus) {
    const cuts = new Set([u.start, u.end]);
    for (const c of inU) { cuts.add(Math.max(u.start, c.start)); cuts.add(Math.min(u.end, c.end)); }
    const f = focus && focus.start < u.end && focus.end > u.start ? focus : null;
    if (f) { cuts.add(Math.max(u.start, f.start)); cuts.add(Math.min(u.end, f.end)); }
    const pts = [...cuts].sort((a, b) => a - b);
    const text = el("div", { class: "qk-text" });
    for (let i = 0; i < pts.length - 1; i++) {
      const a = pts[i], b = pts[i + 1];
      const cover = inU.filter((c) => c.start <= a && c.end >= b);
      const span = el("span", { "data-off": String(a) }, cps.slice(a, b).join(""));
      if (f && f.start <= a && f.end >= b) span.classList.add("qk-focus");
      if (cover.length) {
        const top = cover[cover.length - 1];
        span.classList.add("qk-hl");
        if (isPending(top)) span.classList.add("qk-pending");
        if (cover.some((c) => c.memo && c.end === b)) span.classList.add("qk-memo-end");
        span.style.background = alpha(top.colour, Math.min(0.25 + 0.15 * cover.length, 0.7));
        span.style.outlineColor = top.colour;
        span.dataset.codings = cover.map((c) => c.id).join(",");
        span.addEventListener("click", (ev) => {
          if (!window.getSelection().isCollapsed) return;
          if (cover.length > 1) showChooser(cover, ev.pageX + 8, ev.pageY + 8);
          else showPop(top, ev.pageX + 8, ev.pageY + 8);
        });
      }
      text.append(span);
    }
    const margin = el("div", { class: "qk-margin" });
    const t = el("div", { class: `qk-turn qk-${u.role}${u.idx === cursor ? " qk-here" : ""}`, "data-start": String(u.start), "data-end": String(u.end),
      "data-unit": String(u.idx) },
    el("div", { class: "qk-spk" }, u.speaker || (doc.kind === "survey" ? "Antwort" : ""), el("span", { class: "qk-time" }, u.time || "")),
    text, margin);
    t._codings = inU;
    return t;
  }

  // coding stripes at the height of their passage, labels stacked beside them (MAXQDA's margin)
  function layoutMargin(t) {
    const margin = t.querySelector(".qk-margin"), text = t.querySelector(".qk-text");
    const inU = t._codings || [];
    margin.replaceChildren();
    if (!inU.length) return;
    const base = text.getBoundingClientRect().top;
    const spans = [...text.querySelectorAll("[data-off]")];
    const boxes = inU.map((c) => {
      let top = Infinity, bottom = -Infinity;
      for (const s of spans) {
        const off = Number(s.dataset.off);
        if (off >= c.start && off < c.end) {
          for (const r of s.getClientRects()) { top = Math.min(top, r.top - base); bottom = Math.max(bottom, r.bottom - base); }
        }
      }
      if (top === Infinity) { top = 0; bottom = 16; }
      return { c, top, bottom };
    }).sort((a, b) => a.top - b.top || b.bottom - a.bottom);
    const lanes = [];
    for (const b of boxes) {
      let lane = lanes.findIndex((end) => end <= b.top + 1);
      if (lane < 0) { lane = lanes.length; lanes.push(0); }
      lanes[lane] = b.bottom; b.lane = lane;
    }
    const x0 = lanes.length * 6 + 4;
    let next = 0;
    for (const b of boxes) {
      const c = b.c;
      const y = Math.max(b.top, next);
      next = y + 17;
      margin.append(el("div", { class: "qk-stripe" + (isPending(c) ? " qk-pending" : ""),
        style: `left:${b.lane * 6}px;top:${b.top}px;height:${Math.max(8, b.bottom - b.top)}px;background:${c.colour}` }));
      const chip = el("div", { class: "qk-chip" + (isPending(c) ? " qk-pending" : "") + (c.memo ? " qk-has-memo" : ""),
        style: `left:${x0}px;top:${y}px;border-color:${c.colour}`, title: `${c.code} (${c.coder})${c.memo ? "\nMemo: " + c.memo : ""}`,
        "data-coding": String(c.id) }, `${c.code}${isPending(c) ? " ?" : ""}${c.memo ? " ✎" : ""}`);
      chip.addEventListener("click", (ev) => showPop(c, ev.pageX - 300, ev.pageY + 8));
      margin.append(chip);
    }
    margin.style.minHeight = `${next}px`;
  }

  function turnCodings(u, codings) { return codings.filter((c) => c.start < u.end && c.end > u.start); }
  const sigOf = (inU, f) => inU.map((c) => `${c.id}|${c.code}|${c.status}|${c.memo}|${c.start}|${c.end}`).join(";")
    + (f ? `#${f.start}-${f.end}` : "");

  function currentFocus() {
    const f = model.get("focus"), doc = model.get("doc");
    return f && f.document === doc.id ? f : null;
  }

  function drawDoc() {  // a new document: the whole pane
    closePop();
    if (model.get("revision") !== seenRev) takeWhole();  // the document's codings came in the same message
    const doc = model.get("doc");
    drawnDoc = doc.id;
    pane.replaceChildren();
    turnEls = new Map(); turnSig = new Map();
    hitsHere = []; hitIdx = -1; cursor = -1; lastSel = null;
    if (window.CSS && CSS.highlights) { CSS.highlights.delete("qk-search"); CSS.highlights.delete("qk-search-current"); }
    const vars = Object.entries(doc.variables || {}).map(([k, v]) => `${k}: ${v}`).join(" · ");
    pane.append(el("div", { class: "qk-vars" }, `${doc.id || ""}${doc.question ? " – " + doc.question : ""}${vars ? " · " + vars : ""}`));
    const cps = Array.from(doc.text || "");
    const codings = visibleCodings(), f = currentFocus();
    for (const u of doc.units || []) {
      const inU = turnCodings(u, codings);
      const t = renderTurn(u, inU, doc, cps, f);
      turnEls.set(u.idx, t); turnSig.set(u.idx, sigOf(inU, f && f.start < u.end && f.end > u.start ? f : null));
      pane.append(t);
    }
    pane.scrollTop = 0;
    requestAnimationFrame(() => { for (const t of turnEls.values()) layoutMargin(t); });
    drawBar(); drawTree(); markNext();
  }

  function updateTurns() {  // codings changed: only the turns that show something else
    const doc = model.get("doc");
    const cps = Array.from(doc.text || "");
    const codings = visibleCodings(), f = currentFocus();
    const redone = [];
    for (const u of doc.units || []) {
      const inU = turnCodings(u, codings);
      const fu = f && f.start < u.end && f.end > u.start ? f : null;
      const sig = sigOf(inU, fu);
      if (turnSig.get(u.idx) === sig) continue;
      const t = renderTurn(u, inU, doc, cps, fu);
      turnEls.get(u.idx)?.replaceWith(t);
      turnEls.set(u.idx, t); turnSig.set(u.idx, sig);
      redone.push(t);
    }
    for (const t of redone) layoutMargin(t);
    if (redone.length) restoreSelection();
    if (pop && !codings.some((c) => String(c.id) === pop.dataset.coding) && !pop.classList.contains("qk-choose")) {
      pop.querySelector(".qk-conflict").textContent = "Diese Codierung gibt es nicht mehr (von jemand anderem gelöscht).";
    }
  }

  // -- navigation ------------------------------------------------------------------------------
  function unitsToCode() {
    const doc = model.get("doc");
    const counted = codings.filter(counts);
    return (doc.units || []).filter((u) => u.role !== "interviewer")
      .map((u) => ({ u, coded: counted.some((c) => c.start < u.end && c.end > u.start) }));
  }

  function topUnit() {  // the unit at the top of the pane
    const p = pane.getBoundingClientRect();
    for (const [idx, t] of turnEls) if (t.getBoundingClientRect().bottom > p.top + 4) return idx;
    return -1;
  }

  function markUnit(idx) {
    pane.querySelectorAll(".qk-turn.qk-here").forEach((t) => t.classList.remove("qk-here"));
    const t = turnEls.get(idx);
    if (!t) return;
    t.classList.add("qk-here");
    cursor = idx;
    const p = pane.getBoundingClientRect(), r = t.getBoundingClientRect();
    pane.scrollTop += r.top - p.top - 8;
  }

  function nextUncoded(delta) {
    const list = unitsToCode().filter((x) => !x.coded).map((x) => x.u.idx);
    const from = cursor >= 0 ? cursor : (delta > 0 ? topUnit() - 1 : topUnit());
    const target = delta > 0 ? list.find((i) => i > from) : [...list].reverse().find((i) => i < from);
    if (target === undefined) send({ action: "step_uncoded", delta });
    else { markUnit(target); say(`Uncodiert: Abschnitt ${target}`); }
  }

  function nextSuggestion() {
    const pend = codings.filter(isPending).sort((a, b) => a.start - b.start);
    const doc = model.get("doc");
    const here = cursor >= 0 ? doc.units.find((u) => u.idx === cursor)?.start ?? -1 : -1;
    const c = pend.find((x) => x.start > here) || pend[0];
    if (!c) { say("Keine offenen Vorschläge in diesem Dokument"); return; }
    const u = doc.units.find((x) => x.start <= c.start && c.start < x.end);
    if (u) markUnit(u.idx);
    const r = rangeOf(c.start, c.end);
    const rect = r ? r.getBoundingClientRect() : pane.getBoundingClientRect();
    showPop(c, rect.left + window.scrollX, rect.bottom + window.scrollY + 6);
  }

  function applyFocus() {
    const f = currentFocus();
    updateTurns();
    if (!f) return;
    const t = pane.querySelector(".qk-focus");
    if (t) {
      const turn = t.closest(".qk-turn");
      if (turn) cursor = Number(turn.dataset.unit);
      scrollPaneTo(t.getBoundingClientRect());
    }
  }

  // -- search ----------------------------------------------------------------------------------
  function findHere(query) {
    const doc = model.get("doc");
    hitsHere = []; hitIdx = -1;
    const q = query.trim().toLowerCase();
    if (!q) { if (window.CSS && CSS.highlights) CSS.highlights.delete("qk-search"); return; }
    const text = (doc.text || ""), low = text.toLowerCase();
    if (low.length !== text.length) return;
    for (let i = low.indexOf(q); i >= 0; i = low.indexOf(q, i + q.length)) {
      const s = cpLen(text.slice(0, i));
      hitsHere.push({ start: s, end: s + cpLen(text.slice(i, i + q.length)) });
    }
  }

  function showHit(delta) {
    if (!hitsHere.length) { searchCount.textContent = "0 Treffer"; return; }
    hitIdx = (hitIdx + delta + hitsHere.length) % hitsHere.length;
    const h = hitsHere[hitIdx];
    const ranges = hitsHere.map((x) => rangeOf(x.start, x.end)).filter(Boolean);
    const cur = rangeOf(h.start, h.end);
    if (window.CSS && CSS.highlights && window.Highlight) {
      CSS.highlights.set("qk-search", new Highlight(...ranges));
      CSS.highlights.set("qk-search-current", new Highlight(cur));
    }
    searchCount.textContent = `${hitIdx + 1}/${hitsHere.length}`;
    pane.dataset.hit = `${h.start}-${h.end}`;
    if (cur) { pane.scrollTop += cur.getBoundingClientRect().top - pane.getBoundingClientRect().top - pane.clientHeight / 3; }
  }

  const search = el("input", { class: "qk-search", placeholder: "Suchen (Strg+F)", type: "search" });
  const searchCount = el("span", { class: "qk-search-count" });
  search.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") {
      if (!hitsHere.length || search.dataset.q !== search.value) { findHere(search.value); search.dataset.q = search.value; hitIdx = -1; }
      showHit(e.shiftKey ? -1 : 1);
      e.preventDefault();
    } else if (e.key === "Escape") { box.focus({ preventScroll: true }); }
  });

  function drawHits() {
    const hits = model.get("hits");
    hitsBox.replaceChildren();
    if (!hits.length) return;
    hitsBox.append(el("div", { class: "qk-hits-head" }, `${hits.length} Treffer in allen Dokumenten `,
      el("button", { onclick: () => { model.set("hits", []); model.save_changes(); } }, "×")));
    for (const h of hits) {
      hitsBox.append(el("div", { class: "qk-hit", "data-document": h.document,
        onclick: () => send({ action: "open", document: h.document, start: h.start, end: h.end }) },
      el("b", {}, h.document), " …", h.before, el("mark", {}, h.match), h.after, "…"));
    }
  }

  // -- what to code next (the model's proposals, qualkit.suggestions.next_units) ------------------------
  function drawNext() {
    const items = model.get("next_units") || [];
    nextBox.replaceChildren();
    if (!items.length) return;
    nextBox.append(el("div", { class: "qk-next-head" }, `Als Nächstes codieren: ${items.length} Abschnitte, `
      + "deren Codierung dem Modell am meisten beibringt ", el("button", { onclick: () => nextBox.replaceChildren() }, "×")));
    items.forEach((u, i) => nextBox.append(el("div", { class: "qk-next-item", "data-document": u.document,
      "data-start": String(u.start), "data-end": String(u.end),
      onclick: () => send({ action: "open", document: u.document, start: u.start, end: u.end }) },
    el("b", {}, `${i + 1}. ${u.document}`), " ", el("span", { class: "qk-next-why" }, u.why || ""),
    el("div", { class: "qk-next-text" }, u.text))));
    markNext();
  }

  function askNext() { say("Was als Nächstes? Das Modell rechnet …"); send({ action: "next", n: 10 }); }

  function markNext() {  // proposals in the open document that are coded by now get a tick
    const doc = model.get("doc") || {};
    const counted = codings.filter(counts);
    for (const e of nextBox.querySelectorAll(".qk-next-item")) {
      const a = Number(e.dataset.start), b = Number(e.dataset.end);
      e.classList.toggle("qk-next-here", e.dataset.document === doc.id);
      if (e.dataset.document === doc.id) e.classList.toggle("qk-next-done", counted.some((c) => c.start < b && c.end > a));
    }
  }

  // -- bar: built once; drawBar() only refreshes the parts that change (inputs keep focus) -----------
  const jumpBox = el("span"), coderBox = el("span"), progress = el("span", { class: "qk-progress", title: "codierte Abschnitte (ohne Fragen)" });
  const whoami = el("button", { class: "qk-whoami", title: "Namen ändern", onclick: () => askName(null) });
  const last = el("span", { class: "qk-last" });
  const docFilter = el("input", { class: "qk-doc-filter", placeholder: "ID oder Variable=Wert", value: model.get("doc_filter") });
  docFilter.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key !== "Enter") return;
    openFirst = true;
    model.set("doc_filter", docFilter.value); model.save_changes();
  });
  let openFirst = false;  // Enter in the filter: open the first matching document once the list arrives
  bar.append(
    el("button", { class: "qk-prev", title: "voriges Dokument (Alt+←)", onclick: () => send({ action: "step", delta: -1 }) }, "◀"),
    jumpBox,
    el("button", { class: "qk-next", title: "nächstes Dokument (Alt+→)", onclick: () => send({ action: "step", delta: 1 }) }, "▶"),
    docFilter, coderBox, progress,
    el("button", { class: "qk-prev-uncoded", title: "voriger uncodierter Abschnitt (Alt+↑)", onclick: () => nextUncoded(-1) }, "↑ uncodiert"),
    el("button", { class: "qk-next-uncoded", title: "nächster uncodierter Abschnitt (Alt+↓)", onclick: () => nextUncoded(1) }, "↓ uncodiert"),
    el("button", { class: "qk-next-suggestion", title: "nächster offener Vorschlag (Alt+V)", onclick: () => nextSuggestion() }, "Vorschlag ›"),
    el("button", { class: "qk-next-units", title: "Was als Nächstes codieren? Abschnitte, von denen das Modell am meisten lernt (Alt+N)",
      onclick: () => askNext() }, "Als Nächstes?"),
    search, searchCount,
    el("button", { class: "qk-search-all", title: "in allen Dokumenten der Liste suchen",
      onclick: () => send({ action: "search", query: search.value }) }, "in allen"),
    el("button", { class: "qk-undo", title: "Rückgängig (Strg+Z)", onclick: () => send({ action: "undo" }) }, "↶"),
    el("button", { class: "qk-redo", title: "Wiederholen (Strg+Umschalt+Z)", onclick: () => send({ action: "redo" }) }, "↷"),
    el("button", { class: "qk-refresh", title: "neu laden", onclick: () => send({ action: "refresh" }) }, "↻"),
    whoami, last, msg);

  function drawBar() {  // the document list and the coder filter whole; progress and name
    const doc = model.get("doc");
    if (openFirst && docs.length) {
      openFirst = false;
      if (!docs.some((d) => d.id === doc.id)) send({ action: "open", document: docs[0].id });
    }
    let jump = jumpBox.querySelector(".qk-jump");
    if (!jump || jump.dataset.taken !== String(docsTaken)) {  // the list is rebuilt only when it came whole
      jump = el("select", { class: "qk-jump", "data-taken": String(docsTaken),
        onchange: (e) => send({ action: "open", document: e.target.value }) },
      ...docs.map((d) => el("option", { value: d.id }, docLabel(d))));
      jumpBox.replaceChildren(jump);
    }
    jump.value = doc.id || "";
    drawCoders();
    drawProgress();
    const reply = model.get("reply");
    whoami.textContent = `Codierer/in: ${myName || (reply && reply.client === CLIENT && reply.coder) || model.get("coder")}`;
    last.textContent = lastGiven ? `zuletzt: ${lastGiven.document} → ${lastGiven.code}` : "";
  }

  const docLabel = (d) => `${d.id}${d.units ? ` · ${d.coded}/${d.units}` : ""}`;

  function drawCoders() {
    const coderSel = el("select", { class: "qk-coder-filter", onchange: (e) => { model.set("coder_filter", e.target.value); model.save_changes(); } },
      el("option", { value: "" }, "alle Codierenden"), ...coderList.map((c) => el("option", { value: c }, c)));
    coderSel.value = model.get("coder_filter");
    coderBox.replaceChildren(coderSel);
  }

  function drawProgress(changed) {  // the bar's counter; with `changed` (document ids) only their list entries
    const doc = model.get("doc");
    const me = docs.find((d) => d.id === doc.id);
    progress.textContent = me && me.units ? `${me.coded}/${me.units} codiert` : "";
    if (!changed) return;
    const jump = jumpBox.querySelector(".qk-jump");
    for (const d of docs) {
      if (!changed.has(d.id) || !jump) continue;
      const o = [...jump.options].find((x) => x.value === d.id);
      if (o) o.textContent = docLabel(d);
    }
  }

  // a delta from a reply (this browser's action or another's): codings of the open document, counts, progress
  function applyDelta(d) {
    if (d.coders) { coderList = d.coders; drawCoders(); }
    if (d.counts) Object.assign(totals, d.counts);
    if (d.progress) {
      docs = docs.map((x) => d.progress[x.id] ? { ...x, coded: d.progress[x.id][0], units: d.progress[x.id][1] } : x);
      drawProgress(new Set(Object.keys(d.progress)));
    }
    if (d.document && d.document === drawnDoc) {
      const gone = new Set([...(d.remove || []), ...(d.upsert || []).map((c) => c.id)]);
      codings = codings.filter((c) => !gone.has(c.id)).concat(d.upsert || [])
        .sort((a, b) => a.start - b.start || a.id - b.id);
      updateTurns();
      markNext();
    }
    if (d.counts || d.document) updateCounts();
  }

  // -- codebook tree ---------------------------------------------------------------------------
  const quick = el("input", { class: "qk-quick", placeholder: "Code finden (/)" });
  const list = el("div", { class: "qk-codes" });
  tree.append(quick, list);
  let numbered = [];
  let treeKeep = null;  // the tree's scroll position before filtering, restored when the filter is cleared
  const clearQuick = () => {
    quick.value = ""; drawTree();
    if (treeKeep !== null) { tree.scrollTop = treeKeep; treeKeep = null; }
    box.focus({ preventScroll: true });
  };
  quick.addEventListener("focus", () => { if (treeKeep === null) treeKeep = tree.scrollTop; });
  quick.addEventListener("input", () => drawTree());
  quick.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter" && numbered.length) { applyCode(numbered[0].name, false); clearQuick(); e.preventDefault(); }
    else if (e.key === "Escape") clearQuick();
    else if (/^[1-9]$/.test(e.key) && e.altKey && numbered[Number(e.key) - 1]) { applyCode(numbered[Number(e.key) - 1].name, false); e.preventDefault(); }
  });

  function hereCounts() {
    const here = {};
    for (const c of codings.filter(counts)) here[c.code] = (here[c.code] || 0) + 1;
    return here;
  }

  function updateCounts() {  // the tree's numbers in place (the rows stay, and so does the tree's scroll position)
    const here = hereCounts();
    for (const b of list.querySelectorAll(".qk-code[data-code]")) {
      const name = b.dataset.code, n = here[name] || 0, s = b.querySelector(".qk-count");
      const text = n ? String(n) : "", title = `${n} hier, ${totals[name] || 0} im Projekt`;
      if (s.textContent !== text) s.textContent = text;
      if (s.title !== title) s.title = title;
    }
  }

  function drawTree() {
    const codes = model.get("codes"), here = hereCounts(), total = totals;
    const q = quick.value.trim().toLowerCase();
    numbered = q ? codes.filter((c) => c.name.toLowerCase().includes(q)).slice(0, 9)
      : level ? codes.filter((c) => c.parent === level).slice(0, 9) : [];
    const num = new Map(numbered.map((c, i) => [c.name, i + 1]));
    const kids = new Set(codes.filter((c) => c.parent).map((c) => c.parent));
    const rows = [];
    let dim = null;
    for (const c of codes) {
      if (q && !num.has(c.name)) continue;
      if (c.dimension !== dim) { dim = c.dimension; rows.push(el("div", { class: "qk-dim" }, dim)); }
      const check = el("input", { type: "checkbox", class: "qk-activate", title: "aktivieren: nur diese Codes zeigen" });
      check.checked = active.has(c.name);
      check.addEventListener("change", () => { if (check.checked) active.add(c.name); else active.delete(c.name); updateTurns(); });
      const n = here[c.name] || 0;
      rows.push(el("div", { class: "qk-row" + (c.parent ? " qk-sub" : "") + (level === c.name ? " qk-level" : "") },
        check,
        kids.has(c.name) ? el("button", { class: "qk-open", title: "Unterkodes mit Zifferntasten wählen", onmousedown: (e) => e.preventDefault(),
          onclick: () => { level = level === c.name ? "" : c.name; drawTree(); box.focus({ preventScroll: true }); } }, level === c.name ? "▾" : "▸") : null,
        el("button", { class: "qk-code", "data-code": c.name, title: c.definition,
          onmousedown: (e) => e.preventDefault(), onclick: () => applyCode(c.name, false) },
        el("span", { class: "qk-sw", style: `background:${c.colour}` }), c.name,
        el("span", { class: "qk-count", title: `${n} hier, ${total[c.name] || 0} im Projekt` }, n ? String(n) : ""),
        num.has(c.name) ? el("span", { class: "qk-key qk-num" }, String(num.get(c.name)))
          : c.shortcut ? el("span", { class: "qk-key" }, c.shortcut) : null)));
    }
    const keep = tree.scrollTop;
    list.replaceChildren(...rows);
    tree.scrollTop = keep;
  }

  // -- splitter and keys -----------------------------------------------------------------------
  split.addEventListener("mousedown", (e) => {
    e.preventDefault();
    const right = box.getBoundingClientRect().right;
    const move = (ev) => box.style.setProperty("--qk-tree-w", `${Math.max(150, Math.min(600, right - ev.clientX))}px`);
    const up = () => { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); };
    document.addEventListener("mousemove", move); document.addEventListener("mouseup", up);
  });

  pane.addEventListener("mouseup", () => setTimeout(captureSelection, 0));
  const outside = (e) => { if (pop && !pop.contains(e.target)) closePop(); };
  document.addEventListener("mousedown", outside, true);
  const escape = (e) => { if (pop && e.key === "Escape") { closePop(); e.stopPropagation(); } };
  document.addEventListener("keydown", escape, true);

  box.addEventListener("keydown", (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const stop = () => { e.preventDefault(); e.stopPropagation(); };
    if (ctrl && e.key.toLowerCase() === "f") { search.focus(); search.select(); return stop(); }
    if (ctrl && e.key.toLowerCase() === "z") { send({ action: e.shiftKey ? "redo" : "undo" }); return stop(); }
    if (ctrl && e.key.toLowerCase() === "y") { send({ action: "redo" }); return stop(); }
    if (ctrl) return;
    if (e.altKey) {
      const go = { ArrowRight: () => send({ action: "step", delta: 1 }), ArrowLeft: () => send({ action: "step", delta: -1 }),
        ArrowDown: () => nextUncoded(1), ArrowUp: () => nextUncoded(-1), v: nextSuggestion,
        n: askNext };
      if (go[e.key]) { go[e.key](); stop(); }
      return;
    }
    if (e.key === "Escape" && (level || quick.value)) { level = ""; clearQuick(); return stop(); }
    if (/^[1-9]$/.test(e.key) && numbered.length) {
      const c = numbered[Number(e.key) - 1];
      if (c) { captureSelection(); applyCode(c.name, true); }
      return stop();
    }
    const code = model.get("codes").find((c) => c.shortcut && c.shortcut === e.key);
    if (code) { captureSelection(); applyCode(code.name, true); return stop(); }
    if (e.key === "/" || /^\p{L}$/u.test(e.key)) {  // quick filter: type a code's name
      captureSelection();
      if (treeKeep === null) treeKeep = tree.scrollTop;
      quick.focus({ preventScroll: true });
      quick.value = e.key === "/" ? "" : e.key;
      drawTree();
      return stop();
    }
  });

  // -- answers from Python ---------------------------------------------------------------------
  function onReply() {
    const r = model.get("reply");
    if (!r) return;
    if (r.delta) applyDelta(r.delta);
    if (r.client && r.client !== CLIENT) return;
    const mine = sent.get(r.nonce);
    if (mine) {
      sent.delete(r.nonce);
      requestAnimationFrame(() => timings.push({ action: r.action, ms: Math.round(performance.now() - mine.t0), ok: r.ok }));
    }
    if (r.need_coder) { askName(mine ? mine.req : null); say(r.text); return; }
    if (r.last) { lastGiven = r.last; drawBar(); }
    if (r.action === "hello" && r.coder) drawBar();
    if (r.text) say(r.text, r.undo);
    if (pop && pop.dataset.wait === r.nonce) {
      if (r.ok) closePop();
      else {
        pop.classList.remove("qk-busy");
        const box2 = pop.querySelector(".qk-conflict");
        box2.replaceChildren(r.text);
        if (r.conflict && r.conflict.theirs) box2.append(el("div", {}, `Jetzt gespeichert: „${r.conflict.theirs}“`));
      }
    }
  }

  let wholeDue = false;
  function onWhole() {  // lists sent whole (one message may bring several): take them now, redraw once
    takeWhole();
    if (wholeDue) return;
    wholeDue = true;
    queueMicrotask(() => {
      wholeDue = false;
      if ((model.get("doc") || {}).id !== drawnDoc) return;  // a new document: drawDoc draws it all
      updateTurns(); updateCounts(); drawBar(); markNext();
    });
  }
  model.on("change:doc", drawDoc);
  for (const k of ["revision", "codings", "documents", "coders", "code_counts"]) model.on(`change:${k}`, onWhole);
  model.on("change:coder_filter", updateTurns);
  model.on("change:next_units", drawNext);
  model.on("change:focus", applyFocus);
  model.on("change:hits", drawHits);
  model.on("change:reply", onReply);
  drawDoc();
  drawHits();
  drawNext();
  applyFocus();
  send({ action: "hello" });
  const poll = setInterval(() => {
    if (!box.isConnected) return;
    if (document.visibilityState === "visible") send({ action: "poll" });
  }, 4000);
  // In a panel of its own (JupyterLab: right click on the output, "Create New View for Output") the view
  // fills the panel and follows its size.
  let fit = null;
  const fill = () => {
    const panel = root.closest(".jp-LinkedOutputView");
    if (!panel) return;
    box.classList.add("qk-filled");
    box.style.height = `${Math.max(260, panel.clientHeight - 24)}px`;
    if (!fit) { fit = new ResizeObserver(fill); fit.observe(panel); }
  };
  requestAnimationFrame(fill);
  box.__qk = { client: CLIENT, timings };
  return () => {
    closePop(); clearInterval(poll); if (fit) fit.disconnect();
    document.removeEventListener("mousedown", outside, true);
    document.removeEventListener("keydown", escape, true);
  };
}

export default { render };
