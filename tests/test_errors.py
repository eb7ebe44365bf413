"""One error hierarchy: every error binderops defines descends from one root, is a Retry, a
Drop or a ConfigError where the platform must tell them apart, and says its kind in a word."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import binderops
from binderops.core.errors import BinderopsError, ConfigError, Drop, Retry


def defined_errors() -> dict[str, type]:
    found = {}
    for module in pkgutil.walk_packages(binderops.__path__, "binderops."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.name
            ):
                found[f"{module.name}.{name}"] = value
    return found


def test_every_error_descends_from_the_one_root_and_says_its_kind():
    errors = defined_errors()
    assert len(errors) >= 15
    for name, error in errors.items():
        assert issubclass(error, BinderopsError), name
        assert re.fullmatch(r"[a-z_]+", error.kind), name
        if error is BinderopsError or ".local." in name:
            continue  # the root; and the command's own (Mistake, ToolMissing)
        assert issubclass(error, (Retry, Drop, ConfigError)), name


def test_the_kinds_name_what_happened_not_how_it_was_worded():
    errors = defined_errors()
    kinds = {error.kind for error in errors.values()}
    assert {"unavailable", "invalid", "config", "refused", "query", "too_deep"} <= kinds
    assert Drop("a", kind="timestamp").kind == "timestamp" and Drop("b").kind == "invalid"
