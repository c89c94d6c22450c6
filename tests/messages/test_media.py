"""Media sources read into bytes: data URIs as RFC 2397 defines them, bad data named."""

from __future__ import annotations

import base64

import pytest

from engine.messages import media_bytes


def test_a_base64_data_uri_is_decoded() -> None:
    encoded = base64.b64encode(b"\x89PNG\r\n").decode()

    assert media_bytes(f"data:image/png;base64,{encoded}") == ("image/png", b"\x89PNG\r\n")


def test_a_plain_data_uri_is_percent_decoded() -> None:
    svg = "data:image/svg+xml,%3Csvg%20xmlns%3D%22a%22%2F%3E"

    assert media_bytes(svg) == ("image/svg+xml", b'<svg xmlns="a"/>')


def test_bad_base64_names_the_data_uri_and_the_problem() -> None:
    with pytest.raises(ValueError, match=r"data:image/png;base64,… is not valid base64"):
        media_bytes("data:image/png;base64,not*base64!")
