// The visible canvas: image, label layer and overlays under a zoom/pan transform.
// screen (CSS px, relative to the canvas) = image px * scale + offset.

export class View {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.layers = { image: null, label: null, borders: null };
    this.opacity = 0.5;
    this.showLabels = true; // false hides the label layer (key H)
    this.overlay = null; // function(ctx, view) drawing in image coordinates
    this.onZoom = () => {};
    this.pending = false;
    this.fitted = null; // [width, height] while the view shows the fitted image, re-fitted on resize
    new ResizeObserver(() => (this.fitted ? this.fit(...this.fitted) : this.requestDraw())).observe(canvas);
  }

  toImage(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    return [(clientX - r.left - this.ox) / this.scale, (clientY - r.top - this.oy) / this.scale];
  }

  fit(width, height) {
    const r = this.canvas.getBoundingClientRect();
    this.scale = Math.min(r.width / width, r.height / height) * 0.98 || 1;
    this.ox = (r.width - width * this.scale) / 2;
    this.oy = (r.height - height * this.scale) / 2;
    this.fitted = [width, height];
    this.changed();
  }

  actualSize() {
    this.scale = 1; this.ox = 0; this.oy = 0;
    this.fitted = null;
    this.changed();
  }

  zoomAt(factor, clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const sx = clientX - r.left, sy = clientY - r.top;
    const scale = Math.min(64, Math.max(0.02, this.scale * factor));
    this.ox = sx - ((sx - this.ox) * scale) / this.scale;
    this.oy = sy - ((sy - this.oy) * scale) / this.scale;
    this.scale = scale;
    this.fitted = null;
    this.changed();
  }

  panBy(dx, dy) { this.ox += dx; this.oy += dy; this.fitted = null; this.requestDraw(); }

  changed() { this.onZoom(this.scale); this.requestDraw(); }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const { canvas, ctx } = this, dpr = window.devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr), h = Math.round(canvas.clientHeight * dpr);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    ctx.imageSmoothingEnabled = this.scale < 1;
    const { image, label, borders } = this.layers;
    if (image) ctx.drawImage(image, 0, 0);
    if (borders) ctx.drawImage(borders, 0, 0);
    ctx.imageSmoothingEnabled = false;
    if (label && this.showLabels) {
      ctx.globalAlpha = this.opacity;
      ctx.drawImage(label, 0, 0);
      ctx.globalAlpha = 1;
    }
    if (this.overlay) this.overlay(ctx, this);
  }
}
