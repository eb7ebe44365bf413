"""The one template engine: Jinja2 (Flask brings it, so it costs a function nothing to load)
for every template binderops fills in: HTML pages, the badge's SVG, the incident report's
Markdown and the SQL files that name datasets.

Values are escaped where the output is HTML, SVG or XML (autoescape by the template's suffix),
never in Markdown or SQL, whose callers make their values safe themselves (``defuse``, the
warehouse's quoted dataset names). A name a template uses but is not given is an error,
never an empty string: SQL with a dataset missing must not run.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

ESCAPED = ("html", "svg", "xml", "atom")


@cache
def _environment(folder: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(ESCAPED, default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(folder: Path, name: str, **values: Any) -> str:
    """The template ``name`` in ``folder``, filled in with ``values``."""
    return _environment(str(folder)).get_template(name).render(**values)


@lru_cache(maxsize=256)
def _compiled(text: str) -> jinja2.Template:
    return _environment("").from_string(text)


def render_text(text: str, **values: Any) -> str:
    """A template held as text (a SQL file already read), filled in with ``values``;
    nothing is escaped."""
    return _compiled(text).render(**values)


# A name a template needs and was not given.
Missing = jinja2.UndefinedError

__all__ = ["Markup", "Missing", "render", "render_text"]  # Markup: text already made safe
