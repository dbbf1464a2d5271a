"""The jobs' output folders and checkpoint reading: one-sentence errors."""

from __future__ import annotations

import pytest

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.workflow._common import open_checkpoint, output_folder


def test_output_folder(tmp_path):
    assert output_folder(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigurationError, match="--out .*f is a file, not a folder"):
        output_folder(tmp_path / "f", "--out")
    (tmp_path / "a" / "b" / "keep.txt").write_text("mine")
    output_folder(tmp_path / "a" / "b")  # a non-empty folder is fine unless it must be empty
    with pytest.raises(ConfigurationError, match="is not empty; pass --overwrite or choose another --output"):
        output_folder(tmp_path / "a" / "b", empty=True)
    assert output_folder(tmp_path / "a" / "b", empty=True, overwrite=True) == tmp_path / "a" / "b"


def test_open_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint .*none.pt does not exist"):
        open_checkpoint(tmp_path / "none.pt")
    with pytest.raises(DataError, match="is a folder, not a pixelseg checkpoint file"):
        open_checkpoint(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(DataError, match="junk.pt") as info:
        open_checkpoint(tmp_path / "junk.pt")
    assert len(str(info.value).splitlines()) == 1
