"""The docs say what the code does: every setting, every public column."""

import re
from pathlib import Path

from binderops import config
from binderops.costs.settings import CostSettings
from binderops.deploys.settings import DeploySettings
from binderops.incidents.settings import IncidentSettings
from binderops.launches.settings import LaunchSettings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = (config.Settings, LaunchSettings, CostSettings, DeploySettings, IncidentSettings)


def test_every_variable_the_settings_read_is_in_the_operators_table():
    table = (ROOT / "docs" / "operators.md").read_text()
    documented = set(re.findall(r"`(BINDEROPS_[A-Z_]+)`", table))
    read = {name for kind in SETTINGS for name in config.variables(kind)}
    assert read - documented == set()


def test_no_variable_is_read_by_two_settings_classes():
    """Each default is written once: one variable, one field."""
    names = [name for kind in SETTINGS for name in config.variables(kind)]
    assert len(names) == len(set(names))


def test_the_readme_lists_each_public_view_with_its_columns(warehouse):
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)`(?: \(private\))? \| ([a-z_, ]+) \|$", readme, re.M))
    assert len(readme.encode()) < 10 * 1024, "a newcomer reads the README in three minutes"
    with warehouse.session() as con:
        for name, columns in rows.items():
            schema, _, table = name.rpartition(".")
            described = con.execute(f'DESCRIBE {schema or "main"}."{table}"').fetchall()
            assert columns.split(", ") == [r[0] for r in described], name
    assert {"launches", "launches_daily", "deployments", "incidents", "cloud_costs_daily"} <= set(
        rows
    )


def test_docs_links_in_the_readme_lead_somewhere():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
