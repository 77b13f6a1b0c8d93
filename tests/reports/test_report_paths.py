"""File names made from stored values (dataset names in figure names) are safe slugs inside the
report's folder; the crafted-store test is tests/studies/test_crafted_store.py."""

from __future__ import annotations

import pytest

from reports.paths import inside, slug

TRAVERSAL = "x/../../../../TRAV"


@pytest.mark.parametrize(
    "name", [TRAVERSAL, "../up", "/abs/path", "..", ".", "", "a\\b", "dot.name", "ü", "x" * 300]
)
def test_a_slug_is_one_plain_file_name_inside_the_folder(tmp_path, name):
    s = slug(name)
    assert s and len(s) <= 100 and "/" not in s and "\\" not in s and "." not in s
    assert inside(tmp_path, name, ".png").parent == tmp_path


def test_slugs_of_different_names_differ_and_plain_names_stay():
    assert slug("boundaries_moons") == "boundaries_moons"
    assert slug("a/b") != slug("a_b") and slug("a/b") != slug("a.b")
