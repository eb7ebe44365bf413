"""Splitting specs into repo and ref the way BinderHub's repo providers read them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binderops.launches.specs import split_spec
from binderops.warehouse import schemas

# The providers the launch schema knows (test_schemas holds the list itself).
PROVIDERS = schemas.launch_event_schemas()[6]["properties"]["provider"]["enum"]


@pytest.mark.parametrize(
    "provider, spec, repo, ref",
    [
        ("GitHub", "binder-examples/requirements/HEAD", "binder-examples/requirements", "HEAD"),
        ("GitHub", "owner/repo/feature/with/slashes", "owner/repo", "feature/with/slashes"),
        ("GitHub", "owner/repo.git/main", "owner/repo", "main"),
        ("GitHub", "owner/repo", "owner/repo", ""),
        ("GitHub", "not-a-spec", "not-a-spec", ""),
        ("Gist", "minrk/a1b2c3d4e5", "minrk/a1b2c3d4e5", ""),
        ("Gist", "minrk/a1b2c3d4e5/0f3e2d", "minrk/a1b2c3d4e5", "0f3e2d"),
        (
            "GitLab",
            "gitlab.com%2Fgroup%2Fsubgroup%2Fproject/main",
            "gitlab.com/group/subgroup/project",
            "main",
        ),
        ("GitLab", "group%2Fproject/release/1.0", "group/project", "release/1.0"),
        (
            "Git",
            "https%3A%2F%2Fcodeberg.org%2Fada%2Fnotes.git/HEAD",
            "https://codeberg.org/ada/notes.git",
            "HEAD",
        ),
        ("Git", "https%3A%2F%2Fexample.org%2Frepo/v1%2F2", "https://example.org/repo", "v1/2"),
        ("Zenodo", "10.5281/zenodo.3242074", "10.5281/zenodo.3242074", ""),
        ("Figshare", "10.6084/m9.figshare.9782777.v3", "10.6084/m9.figshare.9782777.v3", ""),
        ("Hydroshare", "b8f6eae9d89241cf8b5904033460af61", "b8f6eae9d89241cf8b5904033460af61", ""),
        ("Dataverse", "10.7910/DVN/TJCLKP", "10.7910/DVN/TJCLKP", ""),
        (
            "CKAN",
            "https://demo.ckan.org/dataset/sample",
            "https://demo.ckan.org/dataset/sample",
            "",
        ),
        ("GitHub", "", "", ""),
        (None, None, "", ""),
    ],
)
def test_split_spec_follows_binderhub_providers(provider, spec, repo, ref):
    assert split_spec(provider, spec) == (repo, ref)


@given(st.sampled_from([*PROVIDERS, None, "Unknown"]), st.one_of(st.none(), st.text(max_size=200)))
def test_split_spec_never_crashes_and_returns_strings(provider, spec):
    repo, ref = split_spec(provider, spec)
    assert isinstance(repo, str) and isinstance(ref, str)


@given(
    st.text(
        st.characters(blacklist_characters="/", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=30,
    ),
    st.text(
        st.characters(blacklist_characters="/", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=30,
    ).filter(lambda s: not s.endswith(".git")),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
)
def test_github_ref_is_everything_after_the_second_slash(owner, name, ref):
    spec = f"{owner}/{name}/{ref}"
    assert split_spec("GitHub", spec) == (f"{owner}/{name}", ref)
