// Painting operations on a LabelMap, in image pixel coordinates. A pixel (x, y) is
// covered when its centre (x + 0.5, y + 0.5) is inside the shape.

/** Paint a disc of the given diameter centred at (cx, cy). */
export function stampDisc(map, cx, cy, diameter, value) {
  const r = Math.max(diameter / 2, 0.5), r2 = r * r;
  const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(map.height, Math.ceil(cy + r));
  for (let y = y0; y < y1; y++) {
    const dy = y + 0.5 - cy;
    if (dy * dy > r2) continue;
    const half = Math.sqrt(r2 - dy * dy);
    const x0 = Math.max(0, Math.ceil(cx - half - 0.5)), x1 = Math.min(map.width, Math.floor(cx + half - 0.5) + 1);
    if (x1 > x0) map.data.fill(value, y * map.width + x0, y * map.width + x1);
  }
  map.touch(cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1);
}

/** Paint a stroke from (x0, y0) to (x1, y1) with discs spaced at most 1/4 diameter apart. */
export function strokeSegment(map, x0, y0, x1, y1, diameter, value) {
  const length = Math.hypot(x1 - x0, y1 - y0);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, diameter / 4)));
  for (let i = 1; i <= steps; i++) {
    const t = i / steps;
    stampDisc(map, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, diameter, value);
  }
}

/** Fill a polygon (list of [x, y]; even-odd rule) by scanlines through pixel centres. */
export function fillPolygon(map, points, value) {
  if (points.length < 3) return false;
  const ys = points.map((p) => p[1]);
  const top = Math.max(0, Math.floor(Math.min(...ys))), bottom = Math.min(map.height, Math.ceil(Math.max(...ys)));
  let minX = Infinity, maxX = -Infinity;
  for (let y = top; y < bottom; y++) {
    const yc = y + 0.5, xs = [];
    for (let i = 0; i < points.length; i++) {
      const [ax, ay] = points[i], [bx, by] = points[(i + 1) % points.length];
      if ((ay <= yc && by > yc) || (by <= yc && ay > yc)) xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // pixels whose centre x + 0.5 lies in [xs[k], xs[k + 1])
      const x0 = Math.max(0, Math.ceil(xs[k] - 0.5)), x1 = Math.min(map.width, Math.ceil(xs[k + 1] - 0.5));
      if (x1 > x0) {
        map.data.fill(value, y * map.width + x0, y * map.width + x1);
        minX = Math.min(minX, x0); maxX = Math.max(maxX, x1);
      }
    }
  }
  if (maxX > minX) map.touch(minX, top, maxX, bottom);
  return maxX > minX;
}

/**
 * Flood fill from (sx, sy) over 4-connected pixels whose colour differs from the seed's
 * by at most `tolerance` in every channel. rgba: the image's RGBA bytes.
 */
export function floodFill(map, rgba, sx, sy, tolerance, value) {
  const { width, height, data } = map;
  sx = Math.floor(sx); sy = Math.floor(sy);
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return false;
  const seed = (sy * width + sx) * 4;
  const r = rgba[seed], g = rgba[seed + 1], b = rgba[seed + 2];
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height); // each pixel is pushed at most once
  let top = 0;
  let x0 = sx, y0 = sy, x1 = sx, y1 = sy;
  const push = (n) => {
    if (seen[n]) return;
    seen[n] = 1;
    const j = n * 4;
    if (Math.abs(rgba[j] - r) <= tolerance && Math.abs(rgba[j + 1] - g) <= tolerance &&
        Math.abs(rgba[j + 2] - b) <= tolerance) stack[top++] = n;
  };
  push(sy * width + sx);
  while (top > 0) {
    const i = stack[--top], x = i % width, y = (i - x) / width;
    data[i] = value;
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (y > 0) push(i - width);
    if (y < height - 1) push(i + width);
  }
  map.touch(x0, y0, x1 + 1, y1 + 1);
  return true;
}

/** Superpixel segment map (Uint16Array of ids) with the bounding box of every segment. */
export class Superpixels {
  constructor(width, height, ids, count) {
    this.width = width;
    this.height = height;
    this.ids = ids;
    this.count = count;
    const boxes = new Int32Array(count * 4);
    for (let s = 0; s < count; s++) { boxes[4 * s] = width; boxes[4 * s + 1] = height; boxes[4 * s + 2] = -1; boxes[4 * s + 3] = -1; }
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const b = 4 * ids[i];
        if (x < boxes[b]) boxes[b] = x;
        if (y < boxes[b + 1]) boxes[b + 1] = y;
        if (x > boxes[b + 2]) boxes[b + 2] = x;
        if (y > boxes[b + 3]) boxes[b + 3] = y;
      }
    }
    this.boxes = boxes;
  }

  idAt(x, y) {
    x = Math.floor(x); y = Math.floor(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return -1;
    return this.ids[y * this.width + x];
  }

  /** Assign every pixel of segment s. */
  assign(map, s, value) {
    if (s < 0) return;
    const b = this.boxes, x0 = b[4 * s], y0 = b[4 * s + 1], x1 = b[4 * s + 2] + 1, y1 = b[4 * s + 3] + 1;
    for (let y = y0; y < y1; y++) {
      for (let i = y * this.width + x0, end = y * this.width + x1; i < end; i++) {
        if (this.ids[i] === s) map.data[i] = value;
      }
    }
    map.touch(x0, y0, x1, y1);
  }

  /** Canvas with the segment borders in a light colour (transparent elsewhere); lines are
   *  about 1/1000 of the image size thick so that they stay visible when zoomed out. */
  bordersCanvas() {
    const { width, height, ids } = this;
    const canvas = document.createElement("canvas");
    canvas.width = width; canvas.height = height;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(width, height);
    const px = new Uint32Array(img.data.buffer), color = 0x9000ffff; // yellow, alpha 0.56
    const t = Math.max(1, Math.round(Math.max(width, height) / 1000));
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        if ((x + 1 < width && ids[i] !== ids[i + 1]) || (y + 1 < height && ids[i] !== ids[i + width])) {
          for (let dy = 0; dy < t && y + dy < height; dy++) px.fill(color, i + dy * width, i + dy * width + Math.min(t, width - x));
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    return canvas;
  }
}
