"""``OnnxSegmenter``: run an exported pixelseg model with onnxruntime and NumPy only.

One self-contained module: it imports NumPy, onnxruntime (when a model is opened) and, for
files, Pillow; nothing of torch or the rest of pixelseg, so a deployment may copy this one
file (``tests/test_packaging.py`` loads it alone, with torch and pixelseg unimportable).
:func:`check_image_pixels` is defined here and :func:`pixelseg.inference.semanticseg` uses
it too, so both refuse the same images with the same words. The pre- and post-processing are
those of :func:`pixelseg.inference.semanticseg`: H x W x C uint8 images are divided by 255
into float32 N x C x H x W (the model normalises internally), the class is the argmax of the
logits (the model's ``labels`` output where it has one), scores are their softmax. Class names and colours come from the model's
``metadata_props`` written by :func:`pixelseg.export.export_onnx`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["OnnxSegmenter", "OnnxSegmenterError", "check_image_pixels"]

#: the class-index output of models exported by pixelseg.export.export_onnx (the same name
#: as pixelseg.export.graph.LABELS_NAME; this module imports nothing of pixelseg)
LABELS_NAME = "labels"


class OnnxSegmenterError(ValueError):
    """Bad input to an OnnxSegmenter (the message names the argument and the value)."""


def check_image_pixels(arr: np.ndarray, source: str, error: type[Exception] = ValueError) -> None:
    """An image (... x H x W x C) must not be empty, and a float one must hold finite values
    in [0, 1] (uint8 / 255).

    Raises:
        error: naming ``source`` and the size, the count of NaN/infinite values, or the
            range found.
    """
    h, w = arr.shape[-3], arr.shape[-2]
    if h == 0 or w == 0:
        raise error(f"{source} is empty: its size is {h} x {w} pixels")
    if not np.issubdtype(arr.dtype, np.floating):
        return
    finite = np.isfinite(arr)
    if not finite.all():
        raise error(f"{source} has {int(arr.size - finite.sum())} NaN or infinite value(s); "
                    "a float image must hold finite values in [0, 1]")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 1:
        raise error(f"{source} is a float image with values in [{lo:g}, {hi:g}]; float images must hold "
                    "values in [0, 1] (uint8 / 255)")


def _onnxruntime():
    """The onnxruntime module, or one sentence naming the command that installs it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModuleNotFoundError(
            'OnnxSegmenter needs onnxruntime, which is not installed: pip install onnxruntime '
            '(or pip install "pixelseg[export]")',
            name="onnxruntime",
        ) from exc
    return onnxruntime


class OnnxSegmenter:
    """A segmentation model exported by pixelseg, run with onnxruntime.

    Args:
        path: the ``.onnx`` file.
        providers: onnxruntime execution providers; default ``["CPUExecutionProvider"]``.
        num_threads: intra-op threads (None: onnxruntime's default).

    Attributes:
        class_names: list of K names; ``colors``: K x 3 uint8; ``num_classes``: K;
        ``in_channels``: C the model takes; ``session``: the ``ort.InferenceSession``;
        ``inference_size``: (H, W) that images are resized to (bilinear, antialiased when
        shrinking) before the network, the logits being resized back to the image's size
        before the argmax, as ``semanticseg`` does for a network trained on resized images;
        None (each image at its own size) unless the export recorded one.
        ``resizes_inside``: True when the model does both resizes itself (a dynamic-size
        export, metadata ``pixelseg.resize_inside``), so it takes images at their own size;
        False: this class resizes (Pillow before, NumPy after), as for fixed-size exports
        and files exported before the resizes moved into the graph.

    Raises:
        FileNotFoundError: no such file. ModuleNotFoundError: onnxruntime is not installed
            (the message names the ``pip install`` to run). OnnxSegmenterError: the file is not an ONNX model
            exported by pixelseg (no ``pixelseg.*`` metadata).
    """

    def __init__(self, path, providers=None, num_threads: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} does not exist")
        ort = _onnxruntime()
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = int(num_threads)
        try:
            self.session = ort.InferenceSession(
                str(self.path), options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise OnnxSegmenterError(f"{self.path} is not an ONNX model onnxruntime can load ({exc})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "pixelseg.class_names" not in meta:
            raise OnnxSegmenterError(
                f"{self.path} has no pixelseg metadata (class names); export it with pixelseg.export_onnx"
            )
        self.metadata = dict(meta)
        self.class_names = list(json.loads(meta["pixelseg.class_names"]))
        self.colors = np.asarray(json.loads(meta["pixelseg.class_colors"]), dtype=np.uint8).reshape(-1, 3)
        self.num_classes = len(self.class_names)
        self.in_channels = int(meta.get("pixelseg.in_channels", "3"))
        size = meta.get("pixelseg.inference_size")
        #: (H, W) images are resized to before the model (the network's training size), or None
        self.inference_size = tuple(int(v) for v in json.loads(size)) if size else None
        self.input_name = self.session.get_inputs()[0].name
        #: (N, C, H, W) the model takes; ints for fixed axes, None for dynamic ones
        self.input_shape = tuple(d if isinstance(d, int) else None for d in self.session.get_inputs()[0].shape)
        outputs = [o.name for o in self.session.get_outputs()]
        self.output_name = outputs[0]
        #: the model's class-index output (N x H x W), or None for exports without one
        self.labels_name = LABELS_NAME if LABELS_NAME in outputs[1:] else None
        self.resizes_inside = self.inference_size is not None and meta.get("pixelseg.resize_inside") == "true"
        # the labels output is at the image's size unless this class resizes the scores back
        self._labels_at_image_size = self.labels_name is not None and (self.inference_size is None
                                                                       or self.resizes_inside)

    def __repr__(self) -> str:
        return f"OnnxSegmenter({str(self.path)!r}, classes={self.class_names})"

    # ------------------------------------------------------------------ inference
    def logits(self, images: np.ndarray) -> np.ndarray:
        """N x H x W x C (or H x W x C) uint8/uint16/float [0, 1] -> logits N x K x H x W float32
        on the images' own grid (resized back from ``inference_size`` when there is one)."""
        arr = np.asarray(images)
        x = self.preprocess(arr)
        out = self.session.run([self.output_name], {self.input_name: x})[0]
        size = arr.shape[-3:-1]  # preprocess accepted H x W x C or N x H x W x C
        if tuple(out.shape[-2:]) != tuple(size):
            out = resize_bilinear(out, size)
        return out

    def predict(self, image: np.ndarray, return_scores: bool = False, all_scores: bool = False):
        """Label one image (H x W x C, or H x W for one channel) or a batch N x H x W x C.

        Returns, like ``semanticseg``: labels (H x W uint8) and, when asked, the winning
        softmax score (H x W float32) and all scores (K x H x W float32), as a tuple in that
        order; with a leading N for a batch.

        Raises:
            OnnxSegmenterError: wrong channel count, dtype, or values outside [0, 1].
        """
        arr = np.asarray(image)
        single = arr.ndim in (2, 3)
        if arr.ndim == 2:
            arr = arr[..., None]
        batch = arr[None] if single else arr
        if self._labels_at_image_size and not (return_scores or all_scores):
            labels = self.session.run([self.labels_name], {self.input_name: self.preprocess(batch)})[0]
            return labels[0] if single else labels
        logits = self.logits(batch)
        labels = logits.argmax(axis=1).astype(np.uint8)
        out = [labels]
        if return_scores or all_scores:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
            if return_scores:
                out.append(probs.max(axis=1))
            if all_scores:
                out.append(probs)
        if single:
            out = [o[0] for o in out]
        return out[0] if len(out) == 1 else tuple(out)

    __call__ = predict

    def predict_file(self, path) -> np.ndarray:
        """Read an image file with Pillow (EXIF orientation applied; RGB, or L for a
        one-channel model) and return its H x W uint8 label map. A 16-bit grey image keeps
        its 16 bits (scaled by 1/65535, as pixelseg does), repeated to the model's channels.

        Raises:
            OnnxSegmenterError: the file is not an image Pillow can read (the message names it).
        """
        from PIL import Image, ImageOps, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                im = ImageOps.exif_transpose(im)
                if im.mode.startswith("I;16"):
                    arr = np.asarray(im).astype(np.uint16)[..., None].repeat(self.in_channels, axis=-1)
                else:
                    arr = np.asarray(im.convert("L" if self.in_channels == 1 else "RGB"))
        except (UnidentifiedImageError, OSError) as exc:
            raise OnnxSegmenterError(f"{path} could not be read as an image ({type(exc).__name__}: {exc})") from None
        return self.predict(arr)

    def palette(self) -> list[int]:
        """768 ints for a Pillow "P"-mode PNG: class colours, then black (void 255 black)."""
        flat = np.zeros((256, 3), dtype=np.uint8)
        flat[: self.num_classes] = self.colors
        return flat.reshape(-1).tolist()

    def save_labels(self, labels: np.ndarray, path, overwrite: bool = False) -> Path:
        """Write an H x W uint8 label map as a palette PNG, atomically (temp file + rename).

        Raises:
            FileExistsError: ``path`` exists and ``overwrite`` is False.
        """
        from PIL import Image

        path = Path(path)
        labels = np.asarray(labels)
        if labels.ndim != 2 or labels.dtype != np.uint8:
            raise OnnxSegmenterError(f"labels must be H x W uint8, got shape {labels.shape} dtype {labels.dtype}")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite on the command line) to replace it")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"the folder {path.parent} for {path.name} does not exist")
        image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
        image.putpalette(self.palette())
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.png", dir=path.parent)
        os.close(fd)
        try:
            image.save(tmp, format="PNG")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    # ------------------------------------------------------------------ helpers
    def preprocess(self, images: np.ndarray) -> np.ndarray:
        """The model's input for images: N x H x W x C (or H x W x C) uint8 (/ 255), uint16
        (/ 65535) or float in [0, 1] -> float32 N x C x H x W, contiguous. The one place the
        model's input convention lives (int8 calibration feeds its images through it too).

        Raises:
            OnnxSegmenterError: wrong rank, channel count, dtype or values, an empty image, or
                a size other than a fixed-size model's.
        """
        arr = np.asarray(images)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4:
            raise OnnxSegmenterError(f"images must be H x W x C or N x H x W x C, got shape {arr.shape}")
        check_image_pixels(arr, "the image", OnnxSegmenterError)
        if arr.shape[-1] != self.in_channels:
            raise OnnxSegmenterError(
                f"the image has {arr.shape[-1]} channel(s) but the model takes {self.in_channels}"
            )
        fixed = self.input_shape
        resize = self.inference_size if not self.resizes_inside else None
        seen = (arr.shape[0], *(resize or arr.shape[1:3]))
        for got, want, what in zip(seen, (fixed[0], fixed[2], fixed[3]), ("batch", "height", "width")):
            if want is not None and got != want:
                raise OnnxSegmenterError(
                    f"the model was exported with a fixed {what} of {want}, got {got} "
                    "(export with dynamic_size=True for any size)"
                )
        if arr.dtype == np.uint8:
            x = arr.astype(np.float32) / np.float32(255.0)
        elif arr.dtype == np.uint16:
            x = arr.astype(np.float32) / np.float32(65535.0)
        elif np.issubdtype(arr.dtype, np.floating):  # values checked above
            x = arr.astype(np.float32)
        else:
            raise OnnxSegmenterError(f"images must be uint8, uint16 or float in [0, 1], got {arr.dtype}")
        if resize is not None and tuple(x.shape[1:3]) != resize:
            x = np.stack([resize_channels(image, resize) for image in x])
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def resize_channels(array: np.ndarray, size) -> np.ndarray:
    """Resize an H x W x C float32 array to ``size`` (h, w) channel by channel with Pillow's
    bilinear filter (antialiased when shrinking; pixel centres aligned as torch's
    ``align_corners=False``) -> h x w x C float32."""
    from PIL import Image

    h, w = (int(v) for v in size)
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(array[..., c], dtype=np.float32)).resize(
        (w, h), Image.BILINEAR)) for c in range(array.shape[-1])]
    return np.stack(channels, axis=-1).astype(np.float32, copy=False)


def _bilinear_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (lower, upper) and upper weights of each output pixel along one axis,
    with torch's ``align_corners=False`` convention (pixel centres; sources clamped at 0)."""
    src = np.maximum((np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    lower = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    upper = np.minimum(lower + 1, n_in - 1)
    return lower, upper, (src - lower).astype(np.float32)


def resize_bilinear(scores: np.ndarray, size) -> np.ndarray:
    """Resize N x K x h x w float32 scores to N x K x H x W (``size`` = (H, W)) bilinearly, as
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` does (no
    antialiasing): each output value blends the two nearest source rows, then columns."""
    h, w = (int(v) for v in size)
    y0, y1, wy = _bilinear_taps(scores.shape[-2], h)
    x0, x1, wx = _bilinear_taps(scores.shape[-1], w)
    rows = scores[..., y0, :] * (1 - wy)[:, None] + scores[..., y1, :] * wy[:, None]
    return (rows[..., x0] * (1 - wx) + rows[..., x1] * wx).astype(np.float32, copy=False)
