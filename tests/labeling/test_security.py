"""Access token, Host check, CSRF header and request size limits of the labeling server."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import HEIGHT, WIDTH, WRITE, put_label, sample_label

TOKEN = "s3cret-token-0123456789"


@pytest.mark.parametrize("path", ["/", "/static/app.css", "/api/images", "/api/classes", "/api/images/img_1.png/image"])
def test_token_required_on_every_request(make_client, path):
    client = make_client(token=TOKEN)
    assert client.get(path).status_code == 403
    assert client.get(path, params={"token": "wrong"}).status_code == 403
    assert client.get(path, params={"token": TOKEN}).status_code == 200
    assert client.get(path, headers={"X-Pixelseg-Token": TOKEN}).status_code == 200


def test_opening_the_page_with_the_token_sets_a_cookie_for_later_requests(make_client):
    client = make_client(token=TOKEN)
    page = client.get("/", params={"token": TOKEN})
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert "pixelseg_token=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/api/images").status_code == 200  # the client now sends the cookie
    client.cookies.clear()
    assert client.get("/api/images").status_code == 403


def test_token_protects_writes(make_client, project):
    client = make_client(token=TOKEN)
    assert put_label(client, "img_1.png", sample_label()).status_code == 403
    assert not (project["labels"] / "img_1.png").exists()
    response = put_label(client, "img_1.png", sample_label(), **{"X-Pixelseg-Token": TOKEN})
    assert response.status_code == 200


def test_writes_need_the_csrf_header(client, project):
    response = client.put(
        "/api/images/img_1.png/label", content=sample_label().tobytes(), headers={"X-Label-Version": ""}
    )
    assert response.status_code == 403
    assert "x-requested-with" in response.json()["detail"]
    assert not (project["labels"] / "img_1.png").exists()


def test_unexpected_host_header_is_refused(make_client):
    client = make_client(allowed_hosts=["127.0.0.1", "localhost"])
    assert client.get("/api/images", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/api/images", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/api/images", headers={"Host": "evil.example:8765"}).status_code == 403


def test_request_larger_than_the_limit_gets_413(make_client, project):
    client = make_client(max_body_bytes=WIDTH * HEIGHT - 1)
    response = put_label(client, "img_1.png", sample_label())
    assert response.status_code == 413
    assert not (project["labels"] / "img_1.png").exists()


def test_streamed_request_without_length_is_limited_too(make_client, project):
    client = make_client(max_body_bytes=100)

    def chunks():
        for _ in range(20):
            yield bytes(64)

    response = client.put(
        "/api/images/img_1.png/label", content=chunks(), headers={**WRITE, "X-Label-Version": ""}
    )
    assert response.status_code == 413
    assert not (project["labels"] / "img_1.png").exists()


def test_class_list_size_is_limited(client):
    response = client.put("/api/classes", content=b"[" + b" " * (2**20 + 10) + b"]", headers=WRITE)
    assert response.status_code == 413


def test_resolve_token_and_url():
    from pixelseg.labeling.server import app_url, resolve_token

    assert resolve_token("127.0.0.1", None) is None
    assert resolve_token("localhost", None) is None
    assert resolve_token("::1", None) is None
    assert resolve_token("127.0.0.1", "given-token-of-16+") == "given-token-of-16+"
    random_token = resolve_token("0.0.0.0", None)
    assert random_token and len(random_token) >= 20 and random_token != resolve_token("0.0.0.0", None)
    assert resolve_token("192.168.1.5", "given-token-of-16+") == "given-token-of-16+"
    assert app_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert app_url("10.0.0.2", 80, "abc") == "http://10.0.0.2:80/?token=abc"
    assert app_url("::1", 8765) == "http://[::1]:8765/"


def test_run_on_a_public_address_prints_a_url_with_a_token(monkeypatch, project):
    import uvicorn

    from pixelseg.labeling import server

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: calls.update(app=app, host=host, port=port))
    lines = []
    server.run(project["images"], project["labels"], project["classes"], host="0.0.0.0", port=9999, echo=lines.append)
    assert calls["host"] == "0.0.0.0" and calls["port"] == 9999
    url = next(line for line in lines if "http://" in line)
    assert ":9999/?token=" in url
    token = url.split("token=")[1].split()[0]
    assert calls["app"].token == token


def test_run_on_loopback_needs_no_token_but_checks_the_host(monkeypatch, project):
    import uvicorn

    from pixelseg.labeling import server

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: calls.update(app=app))
    lines = []
    server.run(project["images"], project["labels"], project["classes"], echo=lines.append)
    assert any("http://127.0.0.1:8765/" in line and "token" not in line for line in lines)
    assert calls["app"].token is None and "127.0.0.1" in calls["app"].allowed_hosts


def test_uploaded_label_bytes_round_trip_under_the_limit(make_client):
    client = make_client(max_body_bytes=WIDTH * HEIGHT)
    label = sample_label()
    assert put_label(client, "img_1.png", label).status_code == 200
    raw = client.get("/api/images/img_1.png/label").content
    np.testing.assert_array_equal(np.frombuffer(raw, np.uint8).reshape(HEIGHT, WIDTH), label)
