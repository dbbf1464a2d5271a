"""``pixelseg label`` command."""

from __future__ import annotations

import pytest


def test_label_command_passes_its_options_to_run(monkeypatch, project):
    from typer.testing import CliRunner

    from pixelseg.cli import app
    from pixelseg.labeling import server

    calls = {}
    monkeypatch.setattr(server, "run", lambda *args, **kwargs: calls.update(args=args, kwargs=kwargs))
    result = CliRunner().invoke(
        app,
        ["label", str(project["images"]), "--labels", str(project["labels"]), "--classes", str(project["classes"]),
         "--port", "9000", "--host", "0.0.0.0"],
    )
    assert result.exit_code == 0, result.output
    assert calls["args"] == (project["images"], project["labels"], project["classes"])
    assert calls["kwargs"]["port"] == 9000 and calls["kwargs"]["host"] == "0.0.0.0"
    assert calls["kwargs"]["model"] is None and calls["kwargs"]["token"] is None


def test_label_command_prints_the_url(monkeypatch, project):
    import uvicorn
    from typer.testing import CliRunner

    from pixelseg.cli import app

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    result = CliRunner().invoke(
        app, ["label", str(project["images"]), "--labels", str(project["labels"]), "--classes", str(project["classes"])]
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/" in result.output


def test_missing_images_folder_is_a_one_line_error(project, capsys):
    from pixelseg.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["label", str(project["root"] / "nope"), "--labels", str(project["labels"]), "--classes", str(project["classes"])])
    assert exit_info.value.code == 2
    assert "images folder" in capsys.readouterr().err
