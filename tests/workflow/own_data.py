"""Tiny synthetic datasets, one per layout and label encoding a user brings (issue 15).

Every builder writes 4 images of 16 x 24 pixels and their labels into ``root`` and returns
``(root, classes, extra, counts)``: the class file (or None when the layout carries its
classes), extra ``data:`` keys the user adds to the block ``pixelseg info`` prints (the
reading options), and the expected pixel count per class over the whole dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

H, W, N = 16, 24, 4
SQUARE = (slice(4, 12), slice(6, 14))  # 64 pixels of the object in every mask
OBJECT = 64


def _image(i: int) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _mask(fg, bg=0, dtype=np.uint8) -> np.ndarray:
    shape = (H, W, 3) if isinstance(fg, tuple) else (H, W)
    mask = np.zeros(shape, dtype)
    mask[...] = bg
    mask[SQUARE] = fg
    return mask


def _classes(root: Path, **spec) -> Path:
    path = root / "classes.json"
    path.write_text(json.dumps(spec))
    return path


def binary_counts() -> dict[str, int]:
    return {"background": N * (H * W - OBJECT), "object": N * OBJECT}


def nested(root: Path):
    """<group>/images/*.jpg + <group>/masks/*.png; the same file names in every group."""
    for g in ("site_a", "site_b"):
        for i in range(N // 2):
            (root / g / "images").mkdir(parents=True, exist_ok=True)
            (root / g / "masks").mkdir(exist_ok=True)
            Image.fromarray(_image(i)).save(root / g / "images" / f"frame_{i}.jpg", quality=95)
            Image.fromarray(_mask(1)).save(root / g / "masks" / f"frame_{i}.png")
    return root, _classes(root, names=["background", "object"]), {}, binary_counts()


def beside(root: Path):
    """NAME.jpg next to NAME.png in one folder."""
    root.mkdir(parents=True)
    for i in range(N):
        Image.fromarray(_image(i)).save(root / f"part{i}.jpg", quality=95)
        Image.fromarray(_mask(1)).save(root / f"part{i}.png")
    return root, _classes(root, names=["background", "object"]), {}, binary_counts()


#: DRIVE's field of view in the synthetic images: rows 1..14, columns 1..22 (308 of 384 pixels).
FOV = (slice(1, 15), slice(1, 23))
FOV_PIXELS = 14 * 22


def drive(root: Path):
    """DRIVE: LZW TIFF images, 0/255 GIF masks (grey palette) with suffixes, region masks
    (the field of view :data:`FOV`, holding the object). The counts are inside the region
    (the pixels outside are void by default)."""
    for d in ("images", "1st_manual", "mask"):
        (root / d).mkdir(parents=True)
    for i in range(21, 21 + N):
        Image.fromarray(_image(i)).save(root / "images" / f"{i}_training.tif", compression="tiff_lzw")
        Image.fromarray(_mask(255)).save(root / "1st_manual" / f"{i}_manual1.gif")
        region = np.zeros((H, W), np.uint8)
        region[FOV] = 255
        Image.fromarray(region).save(root / "mask" / f"{i}_training_mask.gif")
    classes = _classes(root, names=["background", "object"], label_ids=[0, 255])
    return root, classes, {}, {"background": N * (FOV_PIXELS - OBJECT), "object": N * OBJECT}


def class_folders(root: Path):
    """images/*.png + masks/<class>/*.png: the class is the folder name (binary masks)."""
    (root / "images").mkdir(parents=True)
    for i in range(N):
        Image.fromarray(_image(i)).save(root / "images" / f"{i:03d}.png")
        defect = "scratch" if i % 2 else "dent"
        (root / "masks" / defect).mkdir(parents=True, exist_ok=True)
        Image.fromarray(_mask(255)).save(root / "masks" / defect / f"{i:03d}.png")
    counts = {"background": N * (H * W - OBJECT), "dent": 2 * OBJECT, "scratch": 2 * OBJECT}
    return root, None, {}, counts


def _generic(root: Path) -> tuple[Path, Path]:
    images, labels = root / "images", root / "labels"
    images.mkdir(parents=True)
    labels.mkdir()
    for i in range(N):
        Image.fromarray(_image(i)).save(images / f"img{i}.png")
    return images, labels


def palette_colours(root: Path):
    """RGB colour masks, half of them saved as palette PNGs whose palette holds the colours
    in another order (F12)."""
    _, labels = _generic(root)
    for i in range(N):
        rgb = Image.fromarray(_mask((176, 112, 32), (48, 112, 32)))
        (rgb.quantize(colors=2) if i % 2 else rgb).save(labels / f"img{i}.png")
    classes = _classes(root, names=["leaf", "stem"], label_ids=[[48, 112, 32], [176, 112, 32]])
    return root, classes, {}, {"leaf": N * (H * W - OBJECT), "stem": N * OBJECT}


def antialiased(root: Path):
    """0/255 masks with soft edges (values 1..254 along the border): read with a threshold."""
    _, labels = _generic(root)
    for i in range(N):
        mask = _mask(255)
        mask[3, 6:14] = 90  # a soft row above the object: background at threshold 128
        mask[12, 6:14] = 200  # and one below: the object
        Image.fromarray(mask).save(labels / f"img{i}.png")
    classes = _classes(root, names=["background", "object"], label_ids=[0, 255])
    return root, classes, {"threshold": 128}, {"background": N * (H * W - OBJECT - 8), "object": N * (OBJECT + 8)}


def mat_files(root: Path):
    """MATLAB .mat label files holding the mask under groundTruth{1}.Segmentation (BSDS)."""
    import scipy.io

    _, labels = _generic(root)
    for i in range(N):
        truth = np.empty((1, 1), dtype=object)
        truth[0, 0] = {"Segmentation": _mask(2).astype(np.uint16) + 1}
        scipy.io.savemat(labels / f"img{i}.mat", {"groundTruth": truth})
    classes = _classes(root, names=["background", "object"], label_ids=[1, 3])
    return root, classes, {"mat_variable": "groundTruth/Segmentation"}, binary_counts()


def transparent(root: Path):
    """RGBA colour masks whose cleared pixels are white with alpha 0: void (F13)."""
    _, labels = _generic(root)
    for i in range(N):
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[..., :3] = 255  # white, transparent
        rgba[SQUARE] = (0, 0, 255, 255)  # building, opaque
        rgba[0:2, :] = (255, 255, 255, 255)  # impervious, opaque: 2 rows
        Image.fromarray(rgba).save(labels / f"img{i}.png")
    classes = _classes(root, names=["impervious", "building"], label_ids=[[255, 255, 255], [0, 0, 255]])
    return root, classes, {}, {"impervious": N * 2 * W, "building": N * OBJECT}


def ls_brush_rle(alpha: np.ndarray) -> list[int]:
    """Label Studio's brush RLE (``value.rle``) of an H x W alpha layer: the RGBA values
    (colour 0, this alpha) as runs only, word size 8, run-length sizes 3, 4, 8, 16 bits."""
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., 3] = alpha
    values = rgba.ravel()
    fields = [(values.size, 32), (7, 5), (2, 4), (3, 4), (7, 4), (15, 4)]
    starts = np.flatnonzero(np.diff(values.astype(int), prepend=-1))
    for start, stop in zip(starts, [*starts[1:], values.size]):
        while stop > start:
            m = min(stop - start, 1 << 16)
            fields += [(1, 1), (3, 2), (m - 1, 16), (int(values[start]), 8)]
            start += m
    bits = "".join(format(v, f"0{n}b") for v, n in fields)
    bits += "0" * (-len(bits) % 8)
    return [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]


def coco(root: Path):
    """A COCO export: images/*.png, annotations/instances.json with the object as a polygon
    (even images) or an uncompressed column-major RLE (odd ones); category id 1."""
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    rle = [6 * H + 4, 8] + [8, 8] * 7 + [4 + (W - 14) * H]  # columns 6..13, rows 4..11
    images, annotations = [], []
    for i in range(N):
        Image.fromarray(_image(i)).save(root / "images" / f"img{i}.png")
        images.append({"id": i + 1, "file_name": f"img{i}.png", "height": H, "width": W})
        segmentation = [[6, 4, 14, 4, 14, 12, 6, 12]] if i % 2 == 0 else {"counts": rle, "size": [H, W]}
        annotations.append({"id": 10 + i, "image_id": i + 1, "category_id": 1, "segmentation": segmentation,
                            "iscrowd": i % 2, "area": OBJECT, "bbox": [6, 4, 8, 8]})
    export = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "object"}]}
    (root / "annotations" / "instances.json").write_text(json.dumps(export))
    return root, None, {}, binary_counts()


def label_studio(root: Path):
    """A Label Studio JSON export: uploads named /data/upload/1/<8 hex>-img<i>.png, the object
    as a polygon in percent (even images) or a brush RLE (odd ones)."""
    (root / "images").mkdir(parents=True)
    tasks = []
    for i in range(N):
        Image.fromarray(_image(i)).save(root / "images" / f"img{i}.png")
        region = {"id": f"r{i}", "original_width": W, "original_height": H, "from_name": "tag", "to_name": "image"}
        if i % 2 == 0:
            points = [[x * 100 / W, y * 100 / H] for x, y in ((6, 4), (14, 4), (14, 12), (6, 12))]
            region |= {"type": "polygonlabels", "value": {"points": points, "polygonlabels": ["object"]}}
        else:
            region |= {"type": "brushlabels",
                       "value": {"format": "rle", "rle": ls_brush_rle(_mask(255)), "brushlabels": ["object"]}}
        tasks.append({"id": i + 1, "data": {"image": f"/data/upload/1/0a1b2c3{i}-img{i}.png"},
                      "annotations": [{"id": i + 1, "result": [region], "was_cancelled": False}]})
    (root / "export.json").write_text(json.dumps(tasks))
    return root, None, {}, binary_counts()


BUILDERS = {f.__name__: f for f in (nested, beside, drive, class_folders, palette_colours, antialiased, mat_files,
                                    transparent, coco, label_studio)}
