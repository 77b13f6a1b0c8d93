"""reports/ may not import ablations/, so it keeps its own copy of the blog's table
(reports.data.STATED); this test keeps the two copies one."""

from ablations import BLOG
from reports.data import STATED


def test_the_reports_copy_of_the_blogs_table_is_the_presets():
    assert STATED == {k: v for k, v in BLOG.items() if k != "epochs"}
