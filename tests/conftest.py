"""Shared fixtures: a DuckDB warehouse per test, and the real Pub/Sub emulator per session."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # the fakes package

from binderops.local import services as local  # noqa: E402
from binderops.warehouse import open_warehouse  # noqa: E402

REQUIRE_TOOLS = os.environ.get("BINDEROPS_REQUIRE_TOOLS") == "1"


def settings_classes() -> tuple[type, ...]:
    """Every settings class: what the variables the code reads are."""
    from binderops.core import config
    from binderops.costs.settings import CostSettings
    from binderops.deploys.settings import DeploySettings
    from binderops.federation.settings import FederationSettings
    from binderops.incidents.settings import IncidentSettings
    from binderops.launches.settings import LaunchSettings
    from binderops.metrics.settings import MetricsSettings

    return (
        config.Settings,
        LaunchSettings,
        CostSettings,
        DeploySettings,
        IncidentSettings,
        MetricsSettings,
        FederationSettings,
    )


def need_tool(reason: str) -> None:
    """Skip (or, where BINDEROPS_REQUIRE_TOOLS=1 as in CI, fail) when a tool is missing."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{reason} (BINDEROPS_REQUIRE_TOOLS=1: missing tools fail instead of skipping)")
    pytest.skip(reason)


@pytest.fixture
def function_env(monkeypatch):
    """Set variables of the functions' environment; per-instance settings and clients are
    made afresh after each change (and after the test)."""
    from binderops import instance

    def set_env(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        instance.reset()

    yield set_env
    instance.reset()


@pytest.fixture
def warehouse(tmp_path):
    w = open_warehouse(f"duckdb://{tmp_path / 'warehouse.duckdb'}")
    w.setup()
    yield w
    w.close()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The official Pub/Sub emulator on 127.0.0.1, shared by the session."""
    try:
        service = local.start_emulator("binderops-test", tmp_path_factory.mktemp("emulator"))
    except local.ToolMissing as e:
        need_tool(f"the Pub/Sub emulator is not available: {e}")
    os.environ["PUBSUB_EMULATOR_HOST"] = service.url.removeprefix("http://")
    yield service
    service.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on: a service that is down."""
    return local.free_port()


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, driven by the Playwright package (no browser download)."""
    from playwright.sync_api import sync_playwright

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        need_tool("no headless browser: install Debian's chromium (`apt-get install chromium`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=found, args=["--no-sandbox"])
        yield browser
        browser.close()
