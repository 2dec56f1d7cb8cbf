"""The trade-off outputs' registry (model/tradeoffs/files.py): a table is written only with the
columns it registers, in its order, so the data dictionary describes every column written."""

from __future__ import annotations

import pandas as pd
import pytest

from model.tradeoffs.files import AGREEMENT, TABLES, TRIES, conform, markdown


def test_columns_in_registry_order_and_plans_after_today():
    frame = pd.DataFrame([{"verdict": "a matter of choice", "alt-01": 2, "site": "A", "optimum": 1,
                           "wards_today": 1, "service": "med", "name": "A", "footprint": "F",
                           "min_wards": 1, "max_wards": 2, "same_every_year_in_every_plan": False}])
    assert list(conform(AGREEMENT, frame).columns) == [
        "site", "name", "footprint", "service", "wards_today", "alt-01", "optimum", "min_wards",
        "max_wards", "same_every_year_in_every_plan", "verdict"]


def test_unregistered_or_missing_column_is_a_bug():
    row = {c: None for c in TRIES.names()}
    conform(TRIES, pd.DataFrame([row]))  # exactly the registry: fine
    with pytest.raises(ValueError, match=r"not in model/tradeoffs/files.py \['surprise'\]"):
        conform(TRIES, pd.DataFrame([{**row, "surprise": 1}]))
    del row["kept"]
    with pytest.raises(ValueError, match=r"registered but missing \['kept'\]"):
        conform(TRIES, pd.DataFrame([row]))


def test_every_table_and_column_is_documented():
    text = "\n".join(markdown())
    for spec in TABLES:
        assert f"## `{spec.file}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text
