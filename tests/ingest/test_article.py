"""Article ids and dates."""

import pytest

from qa.errors import BadInput
from qa.ingest import check_id, free_id, slugify
from qa.ingest.dates import find_date, normalize_date


def test_dates():
    assert find_date("Rabi' al-Awwal 15, 1442 2020-11-01") == "2020-11-01"
    assert find_date("Published 7th January 2019 at noon") == "2019-01-07"
    assert find_date("Sept. 30, 2020") == "2020-09-30"
    assert find_date("February 31, 2020") is None
    assert normalize_date("2021-06-01T10:00:00Z") == "2021-06-01"


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "", ".hidden", "a" * 200, "sp ace", "a..b", "story\n"])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(BadInput):
        check_id(bad)


def test_slugify_is_path_safe():
    assert slugify("Ünïcode: Title / With Slashes!") == "unicode-title-with-slashes"
    assert check_id(slugify("../../x")) == "x"


def test_free_id_counts_up():
    taken = {"story", "story-2"}
    assert free_id("story", taken.__contains__) == "story-3"
    assert free_id("other", taken.__contains__) == "other"
