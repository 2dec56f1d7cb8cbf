"""The documents match the code."""

from __future__ import annotations

import re

from model.dictionary import TABLES, render_markdown
from model.formulation import FAMILIES
from tests.conftest import ROOT


def test_data_dictionary_doc_matches_code():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run `make docs` to regenerate docs/data-dictionary.md"


def test_every_table_and_column_documented():
    text = render_markdown()
    for table in TABLES.values():
        assert f"`{table.file}`" in text
        for col in table.columns:
            assert f"`{col.name}`" in text


def test_formulation_names_every_family_and_component():
    import pyomo.environ as pyo

    from model.data import load_scenario
    from model.formulation import build_model
    from model.inputs import build_inputs

    text = (ROOT / "docs" / "formulation.md").read_text(encoding="utf-8")
    for name, add in FAMILIES:
        assert f"`{name}`" in text, f"family {name} missing from docs/formulation.md"
        assert add.__doc__ and "math" in add.__doc__, f"add_{name} needs its maths in the docstring"
    m = build_model(build_inputs(load_scenario(ROOT / "data" / "scenarios" / "demo")))
    for kind in (pyo.Var, pyo.Constraint):
        for component in m.component_objects(kind, descend_into=False):
            assert re.search(rf"`{component.name}(`|\[)", text), f"{component.name} not in formulation.md"


def test_readme_run_files_table_matches_the_registry():
    from model.run_files import with_readme_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_readme_table(readme) == readme, "README run-files table is stale: run `make docs`"


def test_run_writes_the_registered_tables(demo_run):
    from model.run_files import RUN_FILES

    written = {p.name for p in demo_run.run_dir.iterdir()}
    for spec in RUN_FILES:
        if spec.after:  # the report: made once the run is published (tests/outputs/test_report.py)
            continue
        table = spec.table(demo_run) if spec.table else None
        # a table written only when it has rows (price.csv: only with fixed decisions)
        absent = not spec.if_empty and (table is None or table.empty)
        for name in spec.names:
            if absent:
                assert name not in written, f"{name} has no rows but was written"
            else:
                assert name in written, f"{name} is registered but the run did not write it"
