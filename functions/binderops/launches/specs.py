"""Split a launch spec into repository and ref, the way BinderHub's repo providers read it."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote

# Providers whose spec names a record, not a repository with refs.
RECORD_PROVIDERS = frozenset({"Zenodo", "Figshare", "Hydroshare", "Dataverse", "CKAN"})


def _strip_git_suffix(name: str) -> str:
    return name[:-4] if name.endswith(".git") else name


@lru_cache(maxsize=65536)
def split_spec(provider: str | None, spec: str | None) -> tuple[str, str]:
    """Return ``(repo, ref)`` for a spec; never raises.

    - GitHub ``owner/repo/ref``: the ref is everything after the second slash.
    - Gist ``user/gist_id[/ref]``.
    - GitLab and Git: a URL-encoded project path or URL, a slash, then the ref; both
      are URL-decoded (BinderHub splits at the first slash, as the path is encoded).
    - CKAN: the dataset URL, URL-encoded; decoded as BinderHub does.
    - Other record providers: the spec is the record identifier and there is no ref.
    A spec that does not fit its provider's shape is kept whole as ``repo``.
    """
    if not spec:
        return "", ""
    if provider == "GitHub" or provider == "Gist":
        parts = spec.split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return spec, ""
        name = _strip_git_suffix(parts[1]) if provider == "GitHub" else parts[1]
        return f"{parts[0]}/{name}", parts[2] if len(parts) == 3 else ""
    if provider == "GitLab" or provider == "Git":
        quoted, sep, ref = spec.partition("/")
        if not sep:
            return unquote(spec), ""
        return unquote(quoted), unquote(ref)
    if provider == "CKAN":
        return unquote(spec), ""
    return spec, ""
