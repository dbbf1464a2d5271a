// pixelseg labeling app: wiring of the page (state, loading, saving, tools, keyboard).
import { ApiError, apiUrl, getBinary, getJson, gzip, imagePath, request, sendJson } from "./api.js";
import { bindClassEditor } from "./classeditor.js";
import { UnsureHatch } from "./hatch.js";
import { classFromKey, classKeyLabel } from "./keys.js";
import { LabelMap, VOID } from "./labelmap.js";
import { Superpixels, fillPolygon, floodFill, stampDisc, strokeSegment } from "./tools.js";
import { View } from "./view.js";

const $ = (id) => document.getElementById(id);
const AUTOSAVE_DELAY_MS = 2000;

const state = {
  info: null,
  images: [],          // [{name, labeled, duplicate_stem, status}]
  classes: [],         // [{index, name, color}]
  classesVersion: "",
  current: null,       // the open image, see openImage()
  classIndex: 0,
  tool: "brush",
  polygon: [],         // vertices of the polygon being drawn (image coordinates)
  pointer: null,       // last pointer position in image coordinates (brush outline)
  drag: null,
  spaceDown: false,
  conflict: false,
  autosaveTimer: null,
  saveChain: Promise.resolve(true),
  uncertainty: new Map(), // image name -> uncertainty in [0, 1] (with --model)
  rankTimer: null,
  prelabelAbort: null,    // AbortController of the pre-label request in flight
};
const view = new View($("view"));
window.pixelseg = { state, view, save: () => save() }; // for debugging and browser tests

// ------------------------------------------------------------------ messages
function setStatus(kind, text) {
  const el = $("save-status");
  el.dataset.state = kind;
  el.textContent = text || { clean: "no changes", dirty: "unsaved changes", saving: "saving\u2026",
    saved: "saved", error: "not saved", conflict: "conflict: not saved", loading: "loading\u2026" }[kind];
}

function showBanner(text, actions = [], kind = "error") {
  $("banner").hidden = false;
  $("banner").dataset.kind = kind;
  $("banner-text").textContent = text;
  const box = $("banner-actions");
  box.replaceChildren();
  for (const [label, handler] of [...actions, ["Dismiss", hideBanner]]) {
    const button = document.createElement("button");
    button.textContent = label;
    button.addEventListener("click", handler);
    box.append(button);
  }
}

function hideBanner() { $("banner").hidden = true; }

function reportError(error) {
  console.error(error);
  showBanner(error instanceof ApiError ? error.message : `Error: ${error.message || error}`);
}

// ------------------------------------------------------------------ lists
function renderClasses() {
  const list = $("classes");
  list.replaceChildren();
  state.classes.forEach((c, i) => {
    const li = document.createElement("li");
    li.dataset.index = i;
    li.setAttribute("aria-selected", String(i === state.classIndex));
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = c.color;
    const name = document.createElement("span");
    name.textContent = c.name;
    const key = document.createElement("span");
    key.className = "key";
    key.textContent = classKeyLabel(i);
    li.append(swatch, name, key);
    li.addEventListener("click", () => selectClass(i));
    list.append(li);
  });
}

function selectClass(i) {
  if (i < 0 || i >= state.classes.length) return;
  state.classIndex = i;
  if (state.tool === "eraser" || state.tool === "pan") selectTool("brush");
  renderClasses();
}

const STATUS_TEXT = { unlabelled: "unlabelled", in_progress: "in progress", done: "done", reviewed: "reviewed" };
const FINISHED = new Set(["done", "reviewed"]);

/** Does the list filter show this image? */
function shown(item) {
  const filter = $("status-filter").value;
  return !filter || item.status === filter || (filter === "unfinished" && !FINISHED.has(item.status));
}

/** The images in list order: by name (the server's natural order) or most uncertain first. */
function orderedImages() {
  if ($("sort").value !== "uncertainty") return state.images;
  const u = (item) => (state.uncertainty.has(item.name) ? state.uncertainty.get(item.name) : -1);
  return [...state.images].sort((a, b) => u(b) - u(a)); // stable: ties keep the name order
}

function renderImages() {
  const list = $("images");
  list.replaceChildren();
  for (const item of orderedImages()) {
    if (!shown(item) && !(state.current && state.current.name === item.name)) continue;
    const li = document.createElement("li");
    li.textContent = item.name;
    if (state.uncertainty.has(item.name)) {
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = state.uncertainty.get(item.name).toFixed(2);
      score.title = "uncertainty: mean softmax entropy / ln K (0 certain, 1 unsure)";
      li.prepend(score);
    }
    li.dataset.name = item.name;
    li.dataset.status = item.status;
    li.title = item.duplicate_stem ? "another image has the same stem: rename one to label it" : `${item.name}: ${STATUS_TEXT[item.status]}`;
    li.classList.toggle("labeled", item.labeled);
    li.classList.toggle("problem", item.duplicate_stem);
    li.classList.toggle("current", state.current && state.current.name === item.name);
    li.addEventListener("click", () => openImage(item.name).catch(reportError));
    list.append(li);
  }
  const total = state.images.length;
  const done = state.images.filter((i) => FINISHED.has(i.status)).length;
  const labeled = state.images.filter((i) => i.labeled).length;
  $("progress-bar").style.width = total ? `${(100 * done) / total}%` : "0";
  $("progress-text").textContent = `${done} / ${total} done \u00b7 ${labeled} labeled`;
  const item = currentItem();
  $("image-status").disabled = !item;
  if (item) $("image-status").value = item.status;
}

function currentItem() {
  return state.current ? state.images.find((i) => i.name === state.current.name) : undefined;
}

/** Mark the open image (unlabelled / in_progress / done / reviewed); stored by the server. */
async function setImageStatus(status) {
  const item = currentItem();
  if (!item) return;
  const result = await sendJson(`${imagePath(item.name)}/status`, "PUT", { status });
  item.status = result.status;
  renderImages();
}

async function refreshImages() {
  state.images = (await getJson("/api/images")).images;
  renderImages();
}

// ------------------------------------------------------------------ images
function loadImageElement(name) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`the browser could not display ${name}`));
    img.src = apiUrl(`${imagePath(name)}/image`);
  });
}

async function openImage(name) {
  if (state.current && state.current.name !== name && !(await save())) return;
  cancelPrelabel();
  clearTimeout(state.autosaveTimer);
  setStatus("loading");
  let info, img, label;
  try {
    [info, img, label] = await Promise.all([
      getJson(imagePath(name)),
      loadImageElement(name),
      getBinary(`${imagePath(name)}/label`, { format: "raw" }),
    ]);
  } catch (error) {
    setStatus("error", `cannot open ${name}`);
    throw error;
  }
  const { width, height } = info;
  if (img.naturalWidth !== width || img.naturalHeight !== height) {
    throw new Error(`${name}: the browser shows ${img.naturalWidth} x ${img.naturalHeight}, pixelseg reads ${width} x ${height}`);
  }
  const data = new Uint8Array(label.bytes);
  if (data.length !== width * height) throw new Error(`${name}: label has ${data.length} bytes, expected ${width * height}`);
  const map = new LabelMap(width, height, data);
  map.setColors(state.classes.map((c) => c.color));
  const current = {
    name, width, height, img, map,
    version: label.headers.get("X-Label-Version") || "",
    edits: 0, savedEdits: 0, rgba: null, superpixels: null, hatch: null,
  };
  map.onChange = () => { current.edits += 1; markDirty(); };
  state.current = current;
  state.polygon = [];
  state.conflict = false;
  $("sp-status").textContent = ""; // per-image state: nothing of the previous image stays
  setPrelabelStatus("");
  hideBanner();
  view.layers = { image: img, label: map.canvas, borders: null };
  view.fit(width, height);
  $("image-name").textContent = `${name} (${width} x ${height})`;
  setStatus("clean");
  history.replaceState(null, "", `${window.location.search}#${encodeURIComponent(name)}`);
  renderImages();
  updateUndoButtons();
  if (state.tool === "superpixel") computeSuperpixels().catch(reportError);
}

function step(offset) {
  if (!state.current) return;
  const visible = orderedImages().filter((item) => shown(item) || item.name === state.current.name);
  const i = visible.findIndex((item) => item.name === state.current.name);
  const next = visible[i + offset];
  if (next) openImage(next.name).catch(reportError);
}

/** The image's RGBA pixels (for flood fill), decoded once per image. */
function imagePixels(current) {
  if (!current.rgba) {
    const canvas = document.createElement("canvas");
    canvas.width = current.width;
    canvas.height = current.height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(current.img, 0, 0);
    current.rgba = ctx.getImageData(0, 0, current.width, current.height).data;
  }
  return current.rgba;
}

// ------------------------------------------------------------------ saving
function markDirty() {
  const current = state.current;
  updateUndoButtons();
  if (!current || current.edits === current.savedEdits) return;
  if (!state.conflict) setStatus("dirty");
  clearTimeout(state.autosaveTimer);
  if ($("autosave").checked && !state.conflict) state.autosaveTimer = setTimeout(() => save(), AUTOSAVE_DELAY_MS);
}

/** Save the open label (queued after any save in flight); resolves to true when saved. */
function save(options = {}) {
  state.saveChain = state.saveChain.then(() => saveNow(options), () => saveNow(options));
  return state.saveChain;
}

async function saveNow({ force = false } = {}) {
  const current = state.current;
  if (!current) return true;
  if (current.edits === current.savedEdits && !force) return true;
  if (state.conflict && !force) { showConflict(current); return false; }
  clearTimeout(state.autosaveTimer);
  const edits = current.edits;
  setStatus("saving");
  try {
    const { body, encoding } = await gzip(current.map.data.slice());
    const headers = { "Content-Type": "application/octet-stream" };
    if (encoding) headers["Content-Encoding"] = encoding;
    if (!force) headers["X-Label-Version"] = current.version;
    const response = await request(`${imagePath(current.name)}/label`, {
      method: "PUT", headers, body, params: force ? { force: "1" } : {},
    });
    const result = await response.json();
    current.version = result.version;
    current.savedEdits = edits;
    state.conflict = false;
    const item = state.images.find((i) => i.name === current.name);
    if (item && (!item.labeled || item.status !== result.status)) {
      item.labeled = true;
      item.status = result.status;
      renderImages();
    }
    if (state.current === current) {
      setStatus(current.edits === edits ? "saved" : "dirty");
      if (current.edits !== edits) markDirty();
    }
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      state.conflict = true;
      setStatus("conflict");
      showConflict(current);
    } else {
      setStatus("error");
      reportError(error);
    }
    return false;
  }
}

function showConflict(current) {
  showBanner(
    `Conflict: the label file of ${current.name} changed on disk since it was loaded ` +
    "(another tab or another person). Your edits are NOT saved.",
    [["Load the version on disk", () => reloadFromDisk(current).catch(reportError)],
     ["Overwrite it with my edits", () => { hideBanner(); save({ force: true }); }]],
  );
}

async function reloadFromDisk(current) {
  const label = await getBinary(`${imagePath(current.name)}/label`, { format: "raw" });
  current.map.replaceAll(new Uint8Array(label.bytes)); // undoable: Undo brings the edits back
  current.version = label.headers.get("X-Label-Version") || "";
  current.savedEdits = current.edits;
  state.conflict = false;
  hideBanner();
  setStatus("clean", "loaded from disk");
  view.requestDraw();
}

// ------------------------------------------------------------------ tools
function selectTool(tool) {
  state.tool = tool;
  state.polygon = [];
  for (const button of document.querySelectorAll("#tools button")) {
    button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
  }
  $("view").style.cursor = tool === "pan" ? "grab" : "crosshair";
  if (tool === "superpixel") $("sp-section").open = true;
  if (tool === "superpixel" && state.current && !state.current.superpixels) computeSuperpixels().catch(reportError);
  showBorders();
}

function paintValue() { return state.tool === "eraser" ? VOID : state.classIndex; }

/** Options of an edit by the current tool: "preserve labels" applies to every tool but the eraser. */
function editOptions() { return { preserve: $("preserve").checked && state.tool !== "eraser" }; }

function setPreserve(on) { $("preserve").checked = on; }

function setLabelsShown(shown) {
  $("show-labels").checked = shown;
  view.showLabels = shown;
  view.requestDraw();
}

function brushSize() { return Number($("brush-size").value); }

async function computeSuperpixels() {
  const current = state.current;
  if (!current) return;
  $("sp-status").textContent = "computing\u2026";
  const params = {
    n_segments: $("sp-count").value, compactness: $("sp-compactness").value, max_side: $("sp-resolution").value,
  };
  const { bytes, headers } = await getBinary(`${imagePath(current.name)}/superpixels`, params);
  const count = Number(headers.get("X-Segments"));
  current.superpixels = new Superpixels(current.width, current.height, new Uint16Array(bytes), count);
  $("sp-status").textContent = `${count} superpixels`;
  showBorders();
}

function showBorders() {
  const current = state.current;
  const sp = current && current.superpixels;
  if (sp && $("sp-show").checked && !sp.borders) sp.borders = sp.bordersCanvas();
  view.layers.borders = sp && $("sp-show").checked && state.tool === "superpixel" ? sp.borders : null;
  view.requestDraw();
}

function closePolygon() {
  const current = state.current;
  if (!current || state.polygon.length < 3) return;
  current.map.begin(editOptions());
  fillPolygon(current.map, state.polygon, state.classIndex);
  current.map.end();
  state.polygon = [];
  view.requestDraw();
}

function onPointerDown(event) {
  const canvas = $("view");
  canvas.setPointerCapture(event.pointerId);
  if (event.button === 1 || event.button === 2 || state.tool === "pan" || state.spaceDown) {
    state.drag = { mode: "pan", x: event.clientX, y: event.clientY };
    canvas.style.cursor = "grabbing";
    return;
  }
  const current = state.current;
  if (event.button !== 0 || !current) return;
  const [x, y] = view.toImage(event.clientX, event.clientY);
  const map = current.map;
  if (state.tool === "brush" || state.tool === "eraser") {
    map.begin(editOptions());
    stampDisc(map, x, y, brushSize(), paintValue());
    state.drag = { mode: "paint", x, y };
  } else if (state.tool === "polygon") {
    const first = state.polygon[0];
    if (first && state.polygon.length >= 3 && Math.hypot(first[0] - x, first[1] - y) * view.scale < 8) closePolygon();
    else state.polygon.push([x, y]);
  } else if (state.tool === "fill") {
    map.begin(editOptions());
    floodFill(map, imagePixels(current), x, y, Number($("tolerance").value), state.classIndex);
    map.end();
  } else if (state.tool === "superpixel") {
    if (!current.superpixels) { computeSuperpixels().catch(reportError); return; }
    map.begin(editOptions());
    const id = current.superpixels.idAt(x, y);
    current.superpixels.assign(map, id, state.classIndex);
    state.drag = { mode: "superpixel", id };
  }
  view.requestDraw();
}

function onPointerMove(event) {
  const current = state.current;
  const [x, y] = view.toImage(event.clientX, event.clientY);
  state.pointer = [x, y];
  const drag = state.drag;
  if (drag && drag.mode === "pan") {
    view.panBy(event.clientX - drag.x, event.clientY - drag.y);
    drag.x = event.clientX;
    drag.y = event.clientY;
  } else if (drag && drag.mode === "paint" && current) {
    strokeSegment(current.map, drag.x, drag.y, x, y, brushSize(), paintValue());
    drag.x = x;
    drag.y = y;
  } else if (drag && drag.mode === "superpixel" && current) {
    const id = current.superpixels.idAt(x, y);
    if (id !== drag.id) { current.superpixels.assign(current.map, id, state.classIndex); drag.id = id; }
  }
  view.requestDraw();
}

function onPointerUp() {
  const drag = state.drag;
  state.drag = null;
  if (drag && (drag.mode === "paint" || drag.mode === "superpixel") && state.current) state.current.map.end();
  if (drag && drag.mode === "pan") $("view").style.cursor = state.tool === "pan" ? "grab" : "crosshair";
  view.requestDraw();
}

function drawOverlay(ctx, v) {
  const px = 1 / v.scale;
  const hatch = state.current && state.current.hatch;
  if (hatch && v.showLabels && $("prelabel-hatch").checked) hatch.draw(ctx);
  if (state.polygon.length) {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = state.classes[state.classIndex] ? state.classes[state.classIndex].color : "#fff";
    ctx.lineWidth = 1.5 * px;
    ctx.beginPath();
    state.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (state.pointer) ctx.lineTo(...state.pointer);
    ctx.stroke();
    for (const [x, y] of state.polygon) ctx.fillRect(x - 3 * px, y - 3 * px, 6 * px, 6 * px);
  }
  if (state.pointer && (state.tool === "brush" || state.tool === "eraser")) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = px;
    ctx.beginPath();
    ctx.arc(state.pointer[0], state.pointer[1], brushSize() / 2, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

// ------------------------------------------------------------------ undo
function updateUndoButtons() {
  const map = state.current && state.current.map;
  $("undo").disabled = !map || !map.undoStack.length;
  $("redo").disabled = !map || !map.redoStack.length;
}

function undo() { if (state.current && state.current.map.undo()) view.requestDraw(); }
function redo() { if (state.current && state.current.map.redo()) view.requestDraw(); }

// ------------------------------------------------------------------ classes
function applyClasses(described) {
  state.classes = described.classes;
  state.classesVersion = described.version;
  if (state.classIndex >= state.classes.length) state.classIndex = 0;
  renderClasses();
  if (state.current) { state.current.map.setColors(state.classes.map((c) => c.color)); view.requestDraw(); }
}

// ------------------------------------------------------------------ keyboard
function onKey(event) {
  const target = event.target;
  const typing = target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement ||
    (target instanceof HTMLInputElement && !["checkbox", "range", "button"].includes(target.type));
  if (typing || $("class-editor").open) return;
  if (target instanceof HTMLInputElement && target.type === "range" && event.key.startsWith("Arrow")) return;
  const ctrl = event.ctrlKey || event.metaKey, key = event.key;
  if (ctrl && key.toLowerCase() === "z") { event.preventDefault(); event.shiftKey ? redo() : undo(); return; }
  if (ctrl && key.toLowerCase() === "y") { event.preventDefault(); redo(); return; }
  if (ctrl && key.toLowerCase() === "s") { event.preventDefault(); save(); return; }
  if (ctrl || event.altKey) return;
  const classKey = classFromKey(event);
  if (classKey >= 0) { event.preventDefault(); selectClass(classKey); return; }
  const tools = { b: "brush", e: "eraser", l: "polygon", g: "fill", s: "superpixel", m: "pan" };
  if (tools[key]) { selectTool(tools[key]); return; }
  if (key === "p") { setPreserve(!$("preserve").checked); return; }
  if (key === "h") { setLabelsShown(!view.showLabels); return; }
  if (key === " ") { state.spaceDown = true; event.preventDefault(); return; }
  if (key === "Enter") { closePolygon(); return; }
  if (key === "Escape") { state.polygon = []; cancelPrelabel(); view.requestDraw(); return; }
  if (key === "f" && state.current) { view.fit(state.current.width, state.current.height); return; }
  if (key === "[" || key === "]") {
    const input = $("brush-size");
    input.value = String(Math.max(1, Math.min(200, brushSize() + (key === "]" ? 2 : -2))));
    input.dispatchEvent(new Event("input"));
    return;
  }
  if (key === "ArrowRight" || key === "n") step(1);
  if (key === "ArrowLeft") step(-1);
}

// ------------------------------------------------------------------ start
function bindControls() {
  const canvas = $("view");
  canvas.addEventListener("pointerdown", onPointerDown);
  canvas.addEventListener("pointermove", onPointerMove);
  canvas.addEventListener("pointerup", onPointerUp);
  canvas.addEventListener("pointercancel", onPointerUp);
  canvas.addEventListener("pointerleave", () => { state.pointer = null; view.requestDraw(); });
  canvas.addEventListener("dblclick", () => { if (state.tool === "polygon") closePolygon(); });
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    view.zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
  }, { passive: false });
  view.overlay = drawOverlay;
  view.onZoom = (scale) => { $("zoom-level").textContent = `${Math.round(scale * 100)} %`; };
  for (const button of document.querySelectorAll("#tools button")) {
    button.addEventListener("click", () => selectTool(button.dataset.tool));
  }
  for (const id of ["brush-size", "tolerance", "opacity"]) {
    $(id).addEventListener("input", () => {
      $(`${id}-out`).textContent = $(id).value;
      view.opacity = Number($("opacity").value) / 100;
      view.requestDraw();
    });
  }
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("save").addEventListener("click", () => save());
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("fit").addEventListener("click", () => state.current && view.fit(state.current.width, state.current.height));
  $("zoom-1").addEventListener("click", () => view.actualSize());
  $("sp-compute").addEventListener("click", () => computeSuperpixels().catch(reportError));
  $("sp-show").addEventListener("change", showBorders);
  $("show-labels").addEventListener("change", () => setLabelsShown($("show-labels").checked));
  $("image-status").addEventListener("change", () => {
    $("image-status").blur(); // keys go back to the tools
    setImageStatus($("image-status").value).catch((error) => {
      reportError(error);
      renderImages(); // back to the stored status
    });
  });
  $("status-filter").addEventListener("change", () => { $("status-filter").blur(); renderImages(); });
  $("sort").addEventListener("change", () => { $("sort").blur(); renderImages(); });
  $("label-next").addEventListener("click", labelNext);
  $("autosave").addEventListener("change", markDirty);
  $("prelabel").addEventListener("click", prelabel);
  $("prelabel-cancel").addEventListener("click", cancelPrelabel);
  $("prelabel-hatch").addEventListener("change", () => view.requestDraw());
  bindClassEditor(() => state, applyClasses);
  document.addEventListener("keydown", onKey);
  window.addEventListener("focus", () => refreshImages().catch(() => {})); // new files, other tabs' saves
  document.addEventListener("keyup", (event) => { if (event.key === " ") state.spaceDown = false; });
  window.addEventListener("beforeunload", (event) => {
    const current = state.current;
    if (current && current.edits !== current.savedEdits) event.preventDefault();
  });
}

// ------------------------------------------------------------------ label next (uncertainty)
/** Fetch the ranking (waiting up to `wait` s); keeps polling while it is incomplete. */
async function refreshRanking(wait = 0) {
  clearTimeout(state.rankTimer);
  const result = await getJson("/api/next", wait ? { wait } : {});
  state.uncertainty = new Map(result.scores.map((s) => [s.name, s.uncertainty]));
  const failed = Object.keys(result.failed).length;
  $("rank-status").textContent = result.complete
    ? `${result.scores.length} ranked by uncertainty${failed ? `, ${failed} unreadable` : ""}`
    : `ranking by uncertainty\u2026 ${result.scores.length} / ${result.scores.length + result.pending}`;
  if (!result.complete) state.rankTimer = setTimeout(() => refreshRanking().catch(reportError), 2000);
  renderImages();
  return result;
}

async function labelNext() {
  const button = $("label-next");
  button.disabled = true;
  button.textContent = "ranking\u2026";
  try {
    const result = await refreshRanking(60);
    if (result.next) await openImage(result.next);
    else showBanner(result.complete ? "Every ranked image is done or reviewed." : "The ranking is not ready yet; try again.", [], "info");
  } catch (error) {
    reportError(error);
  } finally {
    button.disabled = false;
    button.textContent = "Label next";
  }
}

function setPrelabelStatus(text, busy = false) {
  $("prelabel-status").textContent = text;
  $("prelabel-status").classList.toggle("busy", busy);
}

function cancelPrelabel() {
  if (state.prelabelAbort) state.prelabelAbort.abort();
}

/** Ask the model for the open image; replace the label or fill its void pixels (undoable). */
async function prelabel() {
  const current = state.current;
  if (!current || state.prelabelAbort) return;
  const abort = new AbortController();
  state.prelabelAbort = abort;
  $("prelabel").disabled = true;
  $("prelabel-cancel").hidden = false;
  setPrelabelStatus("pre-labelling\u2026", true);
  const threshold = Number($("prelabel-threshold").value) || 0;
  try {
    const { bytes } = await getBinary(`${imagePath(current.name)}/prelabel`, threshold > 0 ? { threshold } : {},
      "POST", abort.signal);
    if (state.current !== current) { setPrelabelStatus("not applied: another image is open"); return; }
    const prediction = new Uint8Array(bytes), map = current.map;
    map.onRender = null; // the previous pre-label's hatch, if any, is dropped below
    const changed = map.replaceAll(prediction, { preserve: $("prelabel-mode").value === "fill" });
    // below the threshold the server sent void: those pixels, while still void, are hatched
    current.hatch = threshold > 0 ? new UnsureHatch(map, prediction, changed ? map.undoStack.at(-1) : null) : null;
    view.requestDraw();
    const unsure = current.hatch ? current.hatch.count() : 0;
    setPrelabelStatus(`pre-labelled (Ctrl+Z undoes)${unsure ? `; ${unsure} unsure pixels hatched` : ""}`);
  } catch (error) {
    if (error.name === "AbortError") setPrelabelStatus("cancelled");
    else { setPrelabelStatus("failed"); reportError(error); }
  } finally {
    state.prelabelAbort = null;
    $("prelabel").disabled = false;
    $("prelabel-cancel").hidden = true;
  }
}

async function start() {
  bindControls();
  selectTool("brush");
  try {
    state.info = await getJson("/api/info");
    $("prelabel-section").hidden = !state.info.prelabel;
    $("label-next").hidden = !state.info.prelabel;
    $("sort-option").hidden = !state.info.prelabel;
    $("sp-count").value = state.info.superpixels.n_segments;
    $("sp-compactness").value = state.info.superpixels.compactness;
    $("sp-resolution").value = state.info.superpixels.max_side;
    applyClasses(await getJson("/api/classes"));
    await refreshImages();
    if (!state.images.length) { showBanner(`No images in ${state.info.images_dir}.`, [], "info"); return; }
    const wanted = decodeURIComponent(window.location.hash.slice(1));
    const first = state.images.find((i) => i.name === wanted) || state.images.find((i) => !i.labeled) || state.images[0];
    await openImage(first.name);
    if (state.info.prelabel) refreshRanking().catch(reportError); // starts the ranking in the background
  } catch (error) {
    reportError(error);
  }
  document.body.dataset.ready = "true";
}

start();
