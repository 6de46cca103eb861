"""The administrative ladder (ocop_workflow/levels.py) and the places that follow it."""

from __future__ import annotations

import pytest

from ocop_workflow.engine import get_registry
from ocop_workflow.errors import InvalidData
from ocop_workflow.levels import LEVELS, is_above, is_level, levels_below, parent_levels, rank
from ocop_workflow.models import Organisation
from ocop_workflow.services import directory


def test_the_ladder_runs_from_central_down_to_commune():
    assert LEVELS == ("central", "province", "district", "commune")
    assert [rank(level) for level in LEVELS] == [0, 1, 2, 3]
    assert is_above("central", "commune") and is_above("province", "district") and is_above("district", "commune")
    assert not is_above("commune", "district") and not is_above("district", "district")
    assert levels_below("central") == ("province", "district", "commune") and levels_below("commune") == ()


def test_each_level_sits_under_the_one_above_and_a_commune_also_under_a_province():
    assert parent_levels("central") == ()
    assert parent_levels("province") == ("central",)
    assert parent_levels("district") == ("province",)
    assert parent_levels("commune") == ("district", "province")  # after the 2025 reform: no district
    assert all(is_above(parent, level) for level in LEVELS for parent in parent_levels(level))


@pytest.mark.parametrize("bad", ["ward", "", None, "Commune"])
def test_a_name_that_is_not_a_level_is_refused(bad):
    assert not is_level(bad)
    with pytest.raises(ValueError, match="not an administrative level"):
        rank(bad)
    with pytest.raises(ValueError):
        parent_levels(bad)
    with pytest.raises(ValueError):
        is_above("central", bad)


def test_the_shipped_catalogue_labels_exactly_the_ladder():
    assert tuple(get_registry().catalogue.levels) == LEVELS


def test_the_database_accepts_exactly_the_ladder():
    [check] = [c for c in Organisation.__table__.constraints if c.name and c.name.endswith("level")]
    assert str(check.sqltext) == f"level IN {LEVELS}"


def test_organisations_follow_the_ladder(db):
    with db.transaction() as s:
        directory.create_organisation(s, code="VN", name="Việt Nam", level="central")
        directory.create_organisation(s, code="P", name="Bắc Giang", level="province", parent_code="VN")
        directory.create_organisation(s, code="D", name="Lục Ngạn", level="district", parent_code="P")
        directory.create_organisation(s, code="C1", name="Phượng Sơn", level="commune", parent_code="D")
        directory.create_organisation(s, code="C2", name="Tân Sơn", level="commune", parent_code="P")
        with pytest.raises(InvalidData) as under_district:
            directory.create_organisation(s, code="D2", name="Yên Thế", level="district", parent_code="D")
        assert under_district.value.message("en") == "A district must sit under a province"
        with pytest.raises(InvalidData) as under_central:
            directory.create_organisation(s, code="C3", name="Đồng Kỳ", level="commune", parent_code="VN")
        assert under_central.value.message("en") == "A commune must sit under a district or province"
        assert under_central.value.message("vi") == "Đơn vị cấp commune phải thuộc đơn vị cấp district hoặc province"
        with pytest.raises(InvalidData, match="Unknown level"):
            directory.create_organisation(s, code="W", name="Phường", level="ward", parent_code="D")
