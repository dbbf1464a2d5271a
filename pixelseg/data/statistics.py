"""Label statistics (MATLAB ``countEachLabel``) and class weights for imbalanced data."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from pixelseg.data.classes import ClassSet
from pixelseg.data.datastores import PixelLabelDatastore
from pixelseg.data.regions import void_outside
from pixelseg.data.snapping import LabelSnapWarning, SnapLog
from pixelseg.errors import ConfigurationError

__all__ = ["count_each_label", "class_weights", "label_counts_per_image", "CLASS_WEIGHT_METHODS"]

CLASS_WEIGHT_METHODS = ("median_frequency", "inverse_frequency", "enet", "uniform")

#: The constant c of the ENet weighting (Paszke et al. 2016): weights lie in [1 / ln(1 + c), 1 / ln c] ~ [1.42, 50.5].
ENET_C = 1.02


def _label_datastore(ds: Any) -> PixelLabelDatastore:
    if isinstance(ds, PixelLabelDatastore):
        return ds
    labels = getattr(ds, "labels", None)
    if isinstance(labels, PixelLabelDatastore):
        return labels
    raise ConfigurationError(
        f"expected a PixelLabelDatastore or a PairedDatastore, got {type(ds).__name__}"
    )


def label_counts_per_image(ds: Any) -> tuple[np.ndarray, np.ndarray, ClassSet]:
    """Pixel count of every class in every label file (reads each file once).

    Args:
        ds: PixelLabelDatastore, or PairedDatastore (its labels, without transforms; with
            regions (``with_regions``), the pixels inside each pair's region only).

    Near-miss values snapped by the datastore's ``tolerance`` give one
    :class:`~pixelseg.data.LabelSnapWarning` with the totals per class over all files.

    Returns:
        counts: N x K int64, counts[n, k] = pixels of class k in file n.
        total: N int64, all pixels of file n (H * W, void included; with regions, the
            pixels inside the region).
        class_set: the ClassSet.
    """
    pxds = _label_datastore(ds)
    region_mask = getattr(ds, "region_mask", None) if getattr(ds, "region_files", None) is not None else None
    k = pxds.class_set.num_classes
    counts = np.zeros((len(pxds), k), dtype=np.int64)
    total = np.zeros(len(pxds), dtype=np.int64)
    snaps = SnapLog()
    for n in range(len(pxds)):
        label = pxds.read_with_raw(n, snaps=snaps)[0]
        region = region_mask(n, label.shape) if region_mask is not None else None
        label = void_outside(label, region)
        hist = np.bincount(label.reshape(-1), minlength=256)
        counts[n] = hist[:k]  # void (255) and nothing else lies beyond K
        total[n] = label.size if region is None else int(region.sum())
    if snaps.pixels:
        warnings.warn(f"{type(pxds).__name__}: {snaps.summary(pxds.tolerance)}", LabelSnapWarning, stacklevel=3)
    return counts, total, pxds.class_set


def count_each_label(ds: Any) -> pd.DataFrame:
    """Pixel counts per class, exactly as MATLAB's ``countEachLabel`` (pixelLabelDatastore).

    Args:
        ds: PixelLabelDatastore or PairedDatastore (with regions: pixels inside them only,
            see :meth:`~pixelseg.data.PairedDatastore.with_regions`).

    Returns:
        DataFrame with one row per class (in class order) and columns
        ``name`` (str), ``pixel_count`` (int64: pixels of the class over all files) and
        ``image_pixel_count`` (int64: total number of pixels, void included, of the images
        in which the class appears, inside their regions when the datastore has regions;
        0 for a class that appears nowhere), plus
        ``image_count`` (number of files holding the class). Void pixels count toward no
        class. ``frequency = pixel_count / image_pixel_count`` is the per-class frequency
        of MATLAB's median-frequency balancing.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from PIL import Image
        >>> from pixelseg import PixelLabelDatastore, count_each_label
        >>> tmp = tempfile.TemporaryDirectory()
        >>> Image.fromarray(np.array([[0, 0, 1], [0, 255, 1]], np.uint8)).save(Path(tmp.name) / "a.png")
        >>> Image.fromarray(np.array([[0, 0], [0, 0]], np.uint8)).save(Path(tmp.name) / "b.png")
        >>> table = count_each_label(PixelLabelDatastore(tmp.name, ["sky", "road", "car"], void_ids=[255]))
        >>> table[["name", "pixel_count", "image_pixel_count", "image_count"]]
           name  pixel_count  image_pixel_count  image_count
        0   sky            7                 10            2
        1  road            2                  6            1
        2   car            0                  0            0
        >>> tmp.cleanup()
    """
    counts, total, class_set = label_counts_per_image(ds)
    present = counts > 0
    return pd.DataFrame(
        {
            "name": class_set.names,
            "pixel_count": counts.sum(axis=0).astype(np.int64),
            "image_pixel_count": (present * total[:, None]).sum(axis=0).astype(np.int64),
            "image_count": present.sum(axis=0).astype(np.int64),
        }
    )


def class_weights(table: pd.DataFrame, method: str = "median_frequency") -> np.ndarray:
    """Class weights for a weighted cross-entropy loss, from :func:`count_each_label`.

    Methods:
        ``"median_frequency"`` (Eigen & Fergus, ICCV 2015; MATLAB's CamVid example):
        ``freq_k = pixel_count_k / image_pixel_count_k``, ``w_k = median(freq) / freq_k``.
        ``"inverse_frequency"`` (scikit-learn's "balanced"): ``w_k = N / (K * pixel_count_k)``
        with N the pixels of all classes, so perfectly balanced data gives 1 everywhere.
        ``"enet"`` (Paszke et al., "ENet", arXiv:1606.02147, 2016): ``w_k = 1 / ln(1.02 + p_k)``
        with ``p_k = pixel_count_k / N``; bounded to [1.42, 50.5], much milder than median
        frequency on rare classes, which often gives a better mean IoU.
        ``"uniform"``: all ones.

    Classes with no pixels: their frequency is undefined (0 / 0), so they are left out of
    the median, and they get the **largest weight of the present classes** (they are the
    rarest seen) rather than infinity or zero (a zero weight makes a batch holding only
    that class give a 0 / 0 = NaN weighted loss). A :class:`UserWarning` names them.

    Returns:
        np.ndarray float32 of shape (K,).

    Raises:
        ConfigurationError: unknown method, a table without the needed columns, or no class
            with any pixel.

    Examples:
        Median frequency: frequencies 0.6, 0.3 and 0.2, median 0.3:

        >>> import pandas as pd
        >>> from pixelseg import class_weights
        >>> table = pd.DataFrame({"name": ["sky", "road", "car"], "pixel_count": [600, 300, 100],
        ...                       "image_pixel_count": [1000, 1000, 500]})
        >>> class_weights(table, method="median_frequency")
        array([0.5, 1. , 1.5], dtype=float32)
        >>> class_weights(table, method="uniform")
        array([1., 1., 1.], dtype=float32)
    """
    if method not in CLASS_WEIGHT_METHODS:
        raise ConfigurationError(f"class_weights: method must be one of {CLASS_WEIGHT_METHODS}, got {method!r}")
    for column in ("pixel_count", "image_pixel_count"):
        if column not in table:
            raise ConfigurationError(f"class_weights: the table has no {column!r} column; use count_each_label()")
    pixel = table["pixel_count"].to_numpy(dtype=np.float64)
    k = len(pixel)
    if method == "uniform":
        return np.ones(k, dtype=np.float32)
    present = pixel > 0
    if not present.any():
        raise ConfigurationError("class_weights: no class has any pixel; cannot weight classes")
    weights = np.zeros(k, dtype=np.float64)
    if method == "median_frequency":
        freq = pixel[present] / table["image_pixel_count"].to_numpy(dtype=np.float64)[present]
        weights[present] = np.median(freq) / freq
    elif method == "enet":
        weights[present] = 1.0 / np.log(ENET_C + pixel[present] / pixel.sum())
    else:
        weights[present] = pixel.sum() / (k * pixel[present])
    if not present.all():
        names = table["name"].tolist() if "name" in table else list(range(k))
        absent = [names[i] for i in np.flatnonzero(~present)]
        warnings.warn(
            f"class_weights: classes {absent} have no pixels; they get the largest weight of the "
            f"present classes ({weights[present].max():.4g})",
            UserWarning,
            stacklevel=2,
        )
        weights[~present] = weights[present].max()
    return weights.astype(np.float32)

