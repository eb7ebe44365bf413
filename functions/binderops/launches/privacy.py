"""What a launch may publish of the text a user or a browser sent: applied before anything
is stored, so no public view, day file, Parquet file or badge can carry more.

A spec is a repository a user typed into a launch URL, and sometimes a credential with it:
``user:token@`` in a URL, a ``?private_token=`` query, a ``;token=`` path parameter, a
``#`` fragment, each possibly percent-encoded once, twice or more. None of these ever names
a repository, so they go, in every encoding. ``request_origin`` is a browser's ``Origin``
header or its ``Sec-Fetch-Site``: only a scheme and a host name, or one of the fetch-site
words, is kept; anything else (an address, a port, a path, a token) becomes ``other``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, unquote

# Decoding stops here: no BinderHub spec is encoded deeper, and a longer chain is an attack.
MAX_DECODINGS = 8
# A URL's user-info: from ``scheme:/`` to an ``@`` that does not follow a ``/`` (a path may
# hold ``/@scope``), across spaces, ``/`` and ``\\`` that a pasted password may hold.
_URL_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]{0,30}:/+)[^@]*?[^/@]@")
# User-info at the start of a spec without a scheme (``user:token@host/…``).
_BARE_USERINFO = re.compile(r"\A[^/@]+@")
# A path parameter (``;token=…``) runs to the next ``/``.
_PARAMETER = re.compile(r";[^/]*")
# Characters that may start something private; a spec without any is stored as sent.
SUSPECT = frozenset("@?#;%")
# What ``Sec-Fetch-Site`` says (and the opaque origin ``null``): kept as they are.
FETCH_SITES = frozenset({"same-origin", "same-site", "cross-site", "none", "null"})
_ORIGIN = re.compile(r"(?i)(https?)://([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*)")
# What may follow an origin's host: a port and a path (both dropped), nothing else.
_AFTER_HOST = re.compile(r"(?::[0-9]{1,5})?(?:/[^@]*)?")
NOT_AN_ORIGIN = "other"


def decoded(text: str) -> str:
    """``text`` percent-decoded until nothing changes (or ``MAX_DECODINGS`` times)."""
    for _ in range(MAX_DECODINGS):
        once = unquote(text)
        if once == text:
            break
        text = once
    return text


def cleaned(text: str) -> str:
    """Decoded ``text`` without user-info, query, fragment or path parameters."""
    while True:
        shorter = _URL_USERINFO.sub(r"\1", text)
        if shorter == text:
            break
        text = shorter
    text = _BARE_USERINFO.sub("", text)
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    return _PARAMETER.sub("", text)


def _private(text: str) -> bool:
    """Whether ``text``, decoded however deep, still holds something ``cleaned`` removes."""
    plain = decoded(text)
    return cleaned(plain) != plain


@lru_cache(maxsize=65536)
def public_spec(provider: str | None, spec: str | None) -> str | None:
    """``spec`` as it may be stored and published. A spec with nothing private in it is kept
    exactly as sent; one that had is rebuilt from its cleaned, decoded parts.

    Git and GitLab specs are ``quote(url)/ref`` (BinderHub splits at the first slash), CKAN
    specs ``quote(url)``: they are rebuilt in that shape, encoded once. Any other spec, and
    one of those whose parts do not hold it all, is stored decoded and cleaned whole."""
    if not spec or not SUSPECT.intersection(spec) or not _private(spec):
        return spec
    if provider in ("Git", "GitLab"):
        quoted, sep, ref = spec.partition("/")
        rebuilt = quote(cleaned(decoded(quoted)), safe="") + sep + quote(cleaned(decoded(ref)))
    elif provider == "CKAN":
        rebuilt = quote(cleaned(decoded(spec)), safe="")
    else:
        rebuilt = cleaned(decoded(spec))
    return rebuilt if not _private(rebuilt) else cleaned(decoded(spec))


@lru_cache(maxsize=4096)
def public_origin(value: str | None) -> str | None:
    """``request_origin`` as it may be published: empty and the fetch-site words as sent, an
    http(s) origin as ``scheme://host`` (lower case; no port, path or user-info), and
    ``other`` for anything else, an address as host included."""
    if not value or value in FETCH_SITES:
        return value
    match = _ORIGIN.match(value)
    if not match or not _AFTER_HOST.fullmatch(value[match.end() :]):
        return NOT_AN_ORIGIN
    host = match.group(2).lower()
    # An address, or a name that carries one (``192.0.2.7.nip.io``, ``3221225991``).
    if re.fullmatch(r"[0-9.]+", host) or re.search(r"[0-9]+(?:[.-][0-9]+){3}", host):
        return NOT_AN_ORIGIN
    return f"{match.group(1).lower()}://{host}"
