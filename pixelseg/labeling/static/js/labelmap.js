// The label being edited: one class index per pixel (255 = void / unlabelled), its
// coloured rendering on an offscreen canvas, and undo/redo history.
//
// Edits happen between begin() and end(): begin() keeps a copy of the label, painting
// code calls touch(x0, y0, x1, y1) for each rectangle it changed, and end() stores the
// changed rectangle before and after as one undo step.
//
// "Preserve labels": begin({ preserve: true }) makes the edit change only pixels that were
// void (unlabelled) when it began; touch() puts every other pixel of its rectangle back
// from the snapshot, so each painting tool gets the behaviour without knowing of it.

export const VOID = 255;
const HISTORY_BYTES = 256 * 1024 * 1024;

export class LabelMap {
  constructor(width, height, data) {
    this.width = width;
    this.height = height;
    this.data = data || new Uint8Array(width * height).fill(VOID);
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext("2d");
    this.pixels = this.ctx.createImageData(width, height);
    this.pixels32 = new Uint32Array(this.pixels.data.buffer);
    this.lut = new Uint32Array(256); // class index -> RGBA (little endian: 0xAABBGGRR)
    this.undoStack = [];
    this.redoStack = [];
    this.historyBytes = 0;
    this.snapshot = null;
    this.preserve = false;
    this.dirty = null;
    this.onChange = () => {};
    this.onRender = null; // function(x0, y0, x1, y1) after a region is redrawn (hatch.js)
  }

  /** colors: array of "#rrggbb", index = class. Void stays transparent. */
  setColors(colors) {
    this.lut.fill(0);
    colors.forEach((hex, i) => {
      const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
      this.lut[i] = (255 << 24 | b << 16 | g << 8 | r) >>> 0;
    });
    this.render(0, 0, this.width, this.height);
  }

  /** Redraw the coloured label in [x0, x1) x [y0, y1). */
  render(x0, y0, x1, y1) {
    x0 = Math.max(0, x0 | 0); y0 = Math.max(0, y0 | 0);
    x1 = Math.min(this.width, Math.ceil(x1)); y1 = Math.min(this.height, Math.ceil(y1));
    if (x1 <= x0 || y1 <= y0) return;
    const { data, pixels32, lut, width } = this;
    for (let y = y0; y < y1; y++) {
      let i = y * width + x0;
      const end = y * width + x1;
      for (; i < end; i++) pixels32[i] = lut[data[i]];
    }
    this.ctx.putImageData(this.pixels, 0, 0, x0, y0, x1 - x0, y1 - y0);
    if (this.onRender) this.onRender(x0, y0, x1, y1);
  }

  // ---------------------------------------------------------------- editing
  begin({ preserve = false } = {}) {
    if (this.snapshot) this.end();
    this.snapshot = this.data.slice();
    this.preserve = preserve;
    this.dirty = null;
  }

  /** Mark [x0, x1) x [y0, y1) as changed (clipped to the image) and redraw it. */
  touch(x0, y0, x1, y1) {
    x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
    x1 = Math.min(this.width, Math.ceil(x1)); y1 = Math.min(this.height, Math.ceil(y1));
    if (x1 <= x0 || y1 <= y0) return;
    const d = this.dirty;
    this.dirty = d ? [Math.min(d[0], x0), Math.min(d[1], y0), Math.max(d[2], x1), Math.max(d[3], y1)] : [x0, y0, x1, y1];
    if (this.preserve && this.snapshot) this.restoreLabelled(x0, y0, x1, y1);
    this.render(x0, y0, x1, y1);
  }

  /** Put back every pixel of [x0, x1) x [y0, y1) that was labelled when the edit began. */
  restoreLabelled(x0, y0, x1, y1) {
    const { data, snapshot, width } = this;
    for (let y = y0; y < y1; y++) {
      for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
        if (snapshot[i] !== VOID) data[i] = snapshot[i];
      }
    }
  }

  /** Finish the edit; returns true when something changed. */
  end() {
    const snapshot = this.snapshot, rect = this.dirty;
    this.snapshot = null;
    this.preserve = false;
    this.dirty = null;
    if (!snapshot || !rect) return false;
    const before = crop(snapshot, this.width, rect);
    const after = crop(this.data, this.width, rect);
    if (before.every((v, i) => v === after[i])) return false;
    this.push(this.undoStack, { rect, before, after });
    this.redoStack = [];
    this.onChange();
    return true;
  }

  /** Replace the whole label as one undoable edit (pre-labeling, reload); with
   *  preserve: true only the void pixels take the new values. */
  replaceAll(data, { preserve = false } = {}) {
    this.begin({ preserve });
    this.data.set(data);
    this.touch(0, 0, this.width, this.height);
    return this.end();
  }

  push(stack, step) {
    stack.push(step);
    this.historyBytes += step.before.length * 2;
    while (this.historyBytes > HISTORY_BYTES && this.undoStack.length > 1) {
      const old = this.undoStack.shift();
      this.historyBytes -= old.before.length * 2;
    }
  }

  undo() { return this.step(this.undoStack, this.redoStack, "before"); }
  redo() { return this.step(this.redoStack, this.undoStack, "after"); }

  step(from, to, which) {
    if (this.snapshot) this.end();
    const step = from.pop();
    if (!step) return false;
    paste(this.data, this.width, step.rect, step[which]);
    const [x0, y0, x1, y1] = step.rect;
    this.render(x0, y0, x1, y1);
    to.push(step);
    this.onChange();
    return true;
  }
}

function crop(data, width, [x0, y0, x1, y1]) {
  const w = x1 - x0, out = new Uint8Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(data.subarray(y * width + x0, y * width + x1), (y - y0) * w);
  return out;
}

function paste(data, width, [x0, y0, x1, y1], values) {
  const w = x1 - x0;
  for (let y = y0; y < y1; y++) data.set(values.subarray((y - y0) * w, (y - y0 + 1) * w), y * width + x0);
}
