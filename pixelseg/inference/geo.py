"""GeoTIFF and Cloud Optimized GeoTIFF (COG) input and output of tiled inference, through
rasterio (the ``geo`` extra).

Reading: :func:`open_geo_source` opens a raster with rasterio and hands tiled inference an
:class:`~pixelseg.inference.tiled_io.ImageSource` whose row bands are windowed reads of the
selected bands (default the first ``in_channels``, 3 for RGB networks), so a GeoTIFF or COG
is read block by block. It keeps the CRS, the affine transform and the nodata value;
:meth:`GeoSource.void_invalid` then writes 255 (void) wherever the dataset mask (GDAL's
``GetMaskBand`` of the dataset) says the input holds no data: all bands equal to nodata, an
internal mask, or alpha 0.

Writing: :func:`write_label_geotiff` writes the label bands as a tiled, deflate-compressed
uint8 GeoTIFF with the input's CRS and transform, nodata 255 and the class colours as the
colour table; ``cog=True`` makes it a COG (GDAL's COG driver, or, with a GDAL older than 3.1,
a tiled GeoTIFF with nearest-neighbour overviews copied ahead of the full resolution).

Routing (:func:`reads_with_rasterio`): tiled inference reads a TIFF through this module when
rasterio is installed and the TIFF has a CRS, or whenever ``bands`` is given; everything else
keeps the tifffile path of :mod:`pixelseg.inference.tiled_io`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from pixelseg.conventions import VOID
from pixelseg.errors import ConfigurationError, DataError
from pixelseg.inference.tiled_io import ImageSource, check_tiff_tile
from pixelseg.utils.extras import install_command, require

__all__ = ["GeoSource", "open_geo_source", "parse_bands", "reads_with_rasterio", "require_rasterio",
           "write_label_geotiff"]

_TIFF_SUFFIXES = (".tif", ".tiff")


def require_rasterio(feature: str):
    """The rasterio module; MissingExtraError naming ``feature`` and the ``geo`` extra without it."""
    return require("rasterio", "geo", feature)


def parse_bands(bands) -> tuple[int, ...] | None:
    """``bands``: None, an int, a sequence of ints or the text ``"4,3,2"`` -> a tuple of
    1-based band numbers (GDAL's numbering), or None.

    Raises:
        ConfigurationError: anything else, or a number below 1.
    """
    if bands is None:
        return None
    try:
        if isinstance(bands, str):
            numbers = tuple(int(v) for v in bands.split(",") if v.strip())
        elif isinstance(bands, (int, np.integer)):
            numbers = (int(bands),)
        else:
            numbers = tuple(int(v) for v in bands)
        if not numbers or min(numbers) < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError(f"bands must be band numbers counted from 1, e.g. (4, 3, 2) or '4,3,2', "
                                 f"got {bands!r}") from None
    return numbers


def _is_tiff_path(image) -> bool:
    return isinstance(image, (str, os.PathLike)) and Path(image).suffix.lower() in _TIFF_SUFFIXES


def _warn_if_georeferenced(path: Path) -> None:
    """Without rasterio: warn that a GeoTIFF's georeferencing will not reach the output."""
    import tifffile

    with contextlib.suppress(Exception), tifffile.TiffFile(path) as tif:
        if tif.pages[0].is_geotiff:
            warnings.warn(
                f"{path} is a GeoTIFF, but the labels are written without its CRS and transform: the geo "
                f"extra (rasterio) is not installed; {install_command('geo')} keeps them",
                stacklevel=4,
            )


def reads_with_rasterio(image, bands=None) -> bool:
    """Whether tiled inference reads ``image`` through rasterio: ``bands`` given (then rasterio
    is required), or a TIFF path that rasterio opens with a CRS. Without rasterio a GeoTIFF
    is read by tifffile, with a warning that the output loses its georeferencing.

    Raises:
        MissingExtraError: ``bands`` given and rasterio not installed.
        ConfigurationError: ``bands`` given for an array (select its channels by slicing).
    """
    if bands is not None:
        if not isinstance(image, (str, os.PathLike)):
            raise ConfigurationError("bands selects the bands of a raster file; slice an array's channels instead "
                                     "(image[..., [3, 2, 1]])")
        require_rasterio("band selection (bands=)")
        return True
    if not _is_tiff_path(image) or not Path(image).is_file():
        return False
    try:
        import rasterio
        from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    except ImportError:
        _warn_if_georeferenced(Path(image))
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            with rasterio.open(image) as ds:
                return ds.crs is not None
        except RasterioIOError:
            return False  # the tifffile path reports what is wrong with it


class _BandArray:
    """The selected bands of an open rasterio dataset as a lazy C x H x W array:
    ``[:, y0:y1]`` is a windowed read of those rows (only the blocks they touch)."""

    def __init__(self, dataset, indexes: tuple[int, ...]):
        self.dataset, self.indexes = dataset, list(indexes)
        self.shape = (len(indexes), dataset.height, dataset.width)
        self.dtype = np.dtype(dataset.dtypes[indexes[0] - 1])

    def __getitem__(self, key) -> np.ndarray:
        from rasterio.errors import RasterioError
        from rasterio.windows import Window

        rows = key[1]
        try:
            return self.dataset.read(self.indexes, window=Window(0, rows.start, self.shape[2], rows.stop - rows.start))
        except RasterioError as exc:
            raise DataError(f"{self.dataset.name}: cannot read rows {rows.start} to {rows.stop - 1} ({exc})") from None


class GeoSource(ImageSource):
    """An :class:`ImageSource` over a rasterio dataset, with its georeferencing.

    Attributes:
        crs: the dataset's ``rasterio.crs.CRS`` (None for a raster without one).
        transform: the ``affine.Affine`` pixel -> CRS transform.
        nodata: the nodata value of the first selected band (None when unset).
        bands: the 1-based band numbers read, in order.
    """

    def __init__(self, data: _BandArray, name: str, mask_dataset, closer, channels: int | None):
        super().__init__(data, "SYX", name, closer, channels=channels)
        dataset = data.dataset
        self.crs, self.transform, self.bands = dataset.crs, dataset.transform, tuple(data.indexes)
        self.nodata = dataset.nodatavals[data.indexes[0] - 1]
        self._mask_dataset = mask_dataset  # a second handle: rows are read in a background thread
        self._has_mask = any(flag.name != "all_valid" for flags in dataset.mask_flag_enums for flag in flags)

    def void_invalid(self, bands: Iterable[tuple[int, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
        """Pass label bands (y0, rows x W uint8) through, with 255 (void) where the dataset
        mask is 0: every band equal to nodata, an internal mask, or alpha 0."""
        from rasterio.windows import Window

        for y0, band in bands:
            if self._has_mask:
                valid = self._mask_dataset.dataset_mask(window=Window(0, y0, self.width, band.shape[0]))
                band = np.where(valid == 0, np.uint8(VOID), band)
            yield y0, band


def _band_indexes(path: Path, count: int, dtypes: Sequence[str], bands, channels: int | None) -> tuple[int, ...]:
    if bands is None:
        indexes = tuple(range(1, min(count, channels or 3) + 1))
    else:
        indexes = bands
        bad = [b for b in bands if b > count]
        if bad:
            raise DataError(f"{path} has {count} band(s) (numbered 1 to {count}); bands asks for band {bad[0]}")
    kinds = {dtypes[i - 1] for i in indexes}
    if len(kinds) > 1:
        raise DataError(f"{path}: the bands {indexes} hold different pixel types {sorted(kinds)}; select bands of one type")
    return indexes


@contextlib.contextmanager
def open_geo_source(image, channels: int | None = None, bands=None) -> Iterator[GeoSource]:
    """Context manager yielding a :class:`GeoSource` for the raster file ``image``.

    Args:
        image: a path rasterio opens (GeoTIFF, COG, or any GDAL raster).
        channels: the network's input channels: the default bands are the first
            ``channels`` (3 when None); one band is repeated to 3 for an RGB network.
        bands: 1-based band numbers to read, in order (see :func:`parse_bands`).

    Raises:
        MissingExtraError: rasterio is not installed.
        DataError: the file does not exist or cannot be read; a band number past the last
            band; selected bands of different pixel types; pixels not uint8 or uint16.
    """
    rasterio = require_rasterio("reading GeoTIFFs")
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(image)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    bands = parse_bands(bands)
    with contextlib.ExitStack() as stack, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            dataset = stack.enter_context(rasterio.open(path))
            mask_dataset = stack.enter_context(rasterio.open(path))
        except RasterioIOError as exc:
            raise DataError(f"{path}: cannot read the raster ({exc})") from None
        indexes = _band_indexes(path, dataset.count, dataset.dtypes, bands, channels)
        source = GeoSource(_BandArray(dataset, indexes), str(path), mask_dataset, None, channels)
        yield source


def _overview_factors(height: int, width: int, tile: int) -> list[int]:
    """2, 4, 8... until the smallest overview fits in one tile."""
    factors, factor = [], 2
    while max(height, width) > tile * factor // 2:
        factors.append(factor)
        factor *= 2
    return factors


def _write_gtiff(path: Path, bands, height: int, width: int, colors, crs, transform, tile: int) -> None:
    import rasterio
    from rasterio.windows import Window

    profile = {"driver": "GTiff", "height": height, "width": width, "count": 1, "dtype": "uint8",
               "nodata": VOID, "crs": crs, "transform": transform, "tiled": True, "blockxsize": tile,
               "blockysize": tile, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    if transform is None:
        del profile["transform"]
    with rasterio.open(path, "w", **profile) as dst:
        if colors is not None:
            table = {i: (*(int(v) for v in c), 255) for i, c in enumerate(np.asarray(colors))}
            dst.write_colormap(1, {**table, VOID: (0, 0, 0, 0)})
        for y0, band in bands:
            dst.write(band, 1, window=Window(0, y0, width, band.shape[0]))


def _has_cog_driver() -> bool:
    import rasterio

    with rasterio.Env() as env:
        return "COG" in env.drivers()


def _to_cog(src: Path, dst: Path, height: int, width: int, tile: int) -> None:
    """Copy the tiled GeoTIFF ``src`` to the COG ``dst`` (nearest-neighbour overviews)."""
    import rasterio
    import rasterio.shutil
    from rasterio.enums import Resampling

    if _has_cog_driver():
        rasterio.shutil.copy(src, dst, driver="COG", BLOCKSIZE=tile, COMPRESS="DEFLATE", RESAMPLING="NEAREST",
                             OVERVIEWS="IGNORE_EXISTING", BIGTIFF="IF_SAFER")
        return
    factors = _overview_factors(height, width, tile)
    if factors:
        with rasterio.open(src, "r+") as ds:
            ds.build_overviews(factors, Resampling.nearest)
    rasterio.shutil.copy(src, dst, driver="GTiff", TILED="YES", BLOCKXSIZE=tile, BLOCKYSIZE=tile,
                         COMPRESS="DEFLATE", COPY_SRC_OVERVIEWS="YES", BIGTIFF="IF_SAFER")


def write_label_geotiff(path, bands: Iterable[tuple[int, np.ndarray]], height: int, width: int, colors, *,
                        crs=None, transform=None, tile: int = 256, cog: bool = False,
                        overwrite: bool = False) -> Path:
    """Write label bands (from tiled inference) as a GeoTIFF, atomically.

    Args:
        path: destination ``.tif``.
        bands: iterable of (y0, rows x width uint8) covering rows 0..height-1 in order.
        colors: K x 3 uint8 class colours, written as the colour table (255, void, is
            transparent black), or None for a grey GeoTIFF.
        crs, transform: the georeferencing (a rasterio CRS or anything it accepts, an
            ``affine.Affine``); None leaves it out.
        tile: tile edge of the GeoTIFF (a multiple of 16); the COG's block size too.
        cog: write a Cloud Optimized GeoTIFF: GDAL's COG driver (nearest-neighbour
            overviews down to one tile), or, where GDAL has none (before 3.1), a tiled
            GeoTIFF with overviews stored ahead of the full resolution. The label map is
            first written as a temporary tiled GeoTIFF beside ``path``.
        overwrite: replace an existing ``path``.

    The output is uint8 with nodata 255, deflate-compressed, tiled.

    Raises:
        MissingExtraError: rasterio is not installed.
        ConfigurationError: ``tile`` not a positive multiple of 16.
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    from pixelseg.utils.atomic import atomic_write

    require_rasterio("writing GeoTIFFs")
    from rasterio.errors import NotGeoreferencedWarning

    check_tiff_tile(tile)
    path = Path(path)
    with atomic_write(path, overwrite=overwrite) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an array's labels have no transform
        if cog:
            with _scratch_file(path) as scratch:
                _write_gtiff(scratch, bands, height, width, colors, crs, transform, tile)
                _to_cog(scratch, tmp, height, width, tile)
        else:
            _write_gtiff(tmp, bands, height, width, colors, crs, transform, tile)
    return path


@contextlib.contextmanager
def _scratch_file(path: Path) -> Iterator[Path]:
    """A temporary ``.tif`` beside ``path`` (the label map may not fit in /tmp), removed after."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".gtiff.tif", dir=path.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.remove(name)
