"""setuptools finds binderops' code packages under functions/; the two data packages are
mapped directories (pyproject's package-dir): schemas/ as binderops._schemas, and
functions/ again as binderops._functions, for main.py. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages("functions", include=["binderops", "binderops.*"]),
        "binderops._schemas",
        "binderops._functions",
    ]
)
