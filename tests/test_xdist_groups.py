"""The suite's own set-up: a module marked with an `xdist_group` runs on one worker, so its module
fixtures (the Ray head, the llama.cpp server, torch's model, Chromium, the wheel) start once."""

import pytest

pytestmark = pytest.mark.xdist_group("test_xdist_groups")  # so the check always has one to see


def test_each_xdist_group_is_in_its_tests_ids(request: pytest.FixtureRequest) -> None:
    """`--dist loadgroup` groups tests only through the `@group` suffix xdist adds to their ids.
    pytest 9.2 keeps ids where xdist 3.8 does not write, and every group was split without a
    word (pyproject.toml pins pytest below it)."""
    if not getattr(request.config.option, "loadgroup", False):  # set in xdist's workers only
        pytest.skip("not in an xdist worker with --dist loadgroup: there are no groups to keep")
    grouped = [item for item in request.session.items if item.get_closest_marker("xdist_group")]
    assert request.node in grouped
    assert [item.nodeid for item in grouped if "@" not in item.nodeid] == []
