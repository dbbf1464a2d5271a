// Hatching of the pixels a pre-label left unlabelled because the network was unsure
// (winning softmax score below the panel's "Min score"; the server returns 255 = void
// there, see POST /api/images/{name}/prelabel?threshold=).
//
// A pixel is hatched while (1) the prediction was void there, (2) the label is still void
// there (painting a class clears the hatch; erasing it again brings it back: the network
// is still unsure there) and (3) the pre-label is applied: undoing it hides the hatch,
// redoing it shows it again. Opening another image drops the hatch (it belongs to the
// image's `current` record). If the pre-label step falls out of the undo history (256 MiB
// of edits later) the hatch disappears with it.
//
// The mask is an offscreen canvas of the image's size (alpha 255 = hatched), updated with
// the label layer through LabelMap.onRender; draw() fills it with a pattern of thin
// diagonal lines that keep their screen size at every zoom.

import { VOID } from "./labelmap.js";

const PERIOD = 8; // screen pixels between two lines
let pattern = null;

/** The tile of the pattern: a white line beside a dark one, so it shows on any image. */
function hatchTile() {
  const tile = document.createElement("canvas");
  tile.width = tile.height = PERIOD;
  const ctx = tile.getContext("2d");
  const pixels = ctx.createImageData(PERIOD, PERIOD);
  for (let y = 0; y < PERIOD; y++) {
    for (let x = 0; x < PERIOD; x++) {
      const d = (x + y) % PERIOD, i = 4 * (y * PERIOD + x);
      if (d === 0) pixels.data.set([255, 255, 255, 200], i);
      else if (d === 1) pixels.data.set([0, 0, 0, 120], i);
    }
  }
  ctx.putImageData(pixels, 0, 0);
  return tile;
}

export class UnsureHatch {
  /**
   * map: the LabelMap the pre-label was applied to; prediction: the server's H*W Uint8Array
   * (255 where the score was below the threshold); step: the undo step the pre-label pushed
   * (null when it changed nothing: the hatch then stays while the pixels stay void).
   */
  constructor(map, prediction, step) {
    if (prediction.length !== map.width * map.height) {
      throw new Error(`pre-label has ${prediction.length} pixels, the label ${map.width * map.height}`);
    }
    this.map = map;
    this.prediction = prediction;
    this.step = step;
    this.canvas = document.createElement("canvas");
    this.canvas.width = map.width;
    this.canvas.height = map.height;
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.pixels = this.ctx.createImageData(map.width, map.height);
    this.pixels32 = new Uint32Array(this.pixels.data.buffer);
    this.screen = null; // offscreen canvas of the view's size, for draw()
    map.onRender = (x0, y0, x1, y1) => this.update(x0, y0, x1, y1);
    this.update(0, 0, map.width, map.height);
  }

  /** Recompute the mask in [x0, x1) x [y0, y1) (already clipped to the image by LabelMap.render). */
  update(x0, y0, x1, y1) {
    const { pixels32, prediction } = this, { data, width } = this.map;
    for (let y = y0; y < y1; y++) {
      for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
        pixels32[i] = prediction[i] === VOID && data[i] === VOID ? 0xff000000 : 0;
      }
    }
    this.ctx.putImageData(this.pixels, 0, 0, x0, y0, x1 - x0, y1 - y0);
  }

  /** Is the pre-label applied (not undone)? */
  applied() { return !this.step || this.map.undoStack.includes(this.step); }

  /** Number of hatched pixels (0 when the pre-label is undone). */
  count() {
    if (!this.applied()) return 0;
    let n = 0;
    for (const v of this.pixels32) if (v) n++;
    return n;
  }

  /** 255 where (x, y) is hatched, else 0 (0 when the pre-label is undone); for tests. */
  alphaAt(x, y) { return this.applied() ? this.ctx.getImageData(x, y, 1, 1).data[3] : 0; }

  /** Draw the hatch on ctx, whose transform maps image pixels to the device pixels of its canvas. */
  draw(ctx) {
    if (!this.applied()) return;
    const { width, height } = ctx.canvas;
    if (!this.screen) this.screen = document.createElement("canvas");
    const screen = this.screen;
    if (screen.width !== width || screen.height !== height) { screen.width = width; screen.height = height; }
    const off = screen.getContext("2d");
    off.globalCompositeOperation = "source-over";
    off.setTransform(1, 0, 0, 1, 0, 0);
    off.clearRect(0, 0, width, height);
    off.setTransform(ctx.getTransform());
    off.imageSmoothingEnabled = false;
    off.drawImage(this.canvas, 0, 0);
    off.setTransform(1, 0, 0, 1, 0, 0);
    off.globalCompositeOperation = "source-in"; // the pattern, only where the mask is
    if (!pattern) pattern = off.createPattern(hatchTile(), "repeat");
    off.fillStyle = pattern;
    off.fillRect(0, 0, width, height);
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(screen, 0, 0);
    ctx.restore();
  }
}
