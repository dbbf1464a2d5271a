import pytest

from pixelseg.errors import PixelsegError
from pixelseg.utils.yamlfile import load_yaml


def test_load_yaml_reads_a_mapping_and_an_empty_file(tmp_path):
    (tmp_path / "a.yaml").write_text("options: {max_epochs: 3}\n", encoding="utf-8")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert load_yaml(tmp_path / "a.yaml") == {"options": {"max_epochs": 3}}
    assert load_yaml(tmp_path / "empty.yaml") == {}


@pytest.mark.parametrize("content, message", [
    (b"data:\n  root: caf\xe9\n", "is not UTF-8 text"),        # Latin-1 bytes
    (b"data: [1, 2\n", "is not valid YAML"),
])
def test_load_yaml_names_the_file_on_bad_content(tmp_path, content, message):
    path = tmp_path / "train.yaml"
    path.write_bytes(content)
    with pytest.raises(PixelsegError, match=message) as info:
        load_yaml(path)
    assert str(path) in str(info.value)


def test_load_yaml_missing_file_says_what_it_is(tmp_path):
    with pytest.raises(FileNotFoundError, match="options file .* does not exist"):
        load_yaml(tmp_path / "nope.yaml", "options")
