"""Inference: ``semanticseg`` on images, batches, folders and large tiled images; overlays.

Public names (imported lazily, so ``label_overlay`` needs neither torch nor a network):

- :func:`semanticseg` (MATLAB ``semanticseg``), in :mod:`pixelseg.inference.segment`
- :func:`semanticseg_ray` (``semanticseg(..., engine="ray")``: many files on a Ray cluster; the
  ``ray`` extra), in :mod:`pixelseg.inference.distributed`
- :func:`semanticseg_tiled` for images larger than memory, in :mod:`pixelseg.inference.tiled`
- :func:`label_overlay`, :func:`label_legend`, :func:`default_colormap` (MATLAB
  ``labeloverlay``), in :mod:`pixelseg.inference.overlay`
- :func:`add_overlay_legend` (title and class legend strips), in :mod:`pixelseg.inference.legend`
- :func:`segment_video`, :func:`write_video_labels` (videos, streamed; the ``video`` extra), in
  :mod:`pixelseg.inference.video`
"""

from __future__ import annotations

from pixelseg.utils.lazy import lazy_exports

_EXPORTS = {
    "semanticseg": "pixelseg.inference.segment",
    "semanticseg_ray": "pixelseg.inference.distributed",
    "semanticseg_tiled": "pixelseg.inference.tiled",
    "label_overlay": "pixelseg.inference.overlay",
    "label_legend": "pixelseg.inference.overlay",
    "default_colormap": "pixelseg.inference.overlay",
    "add_overlay_legend": "pixelseg.inference.legend",
    "segment_video": "pixelseg.inference.video",
    "write_video_labels": "pixelseg.inference.video_writer",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
