"""The one-machine tooling: the ``binderops`` command, the local stack, samples. The deployed
functions never import it (a test pins that) and their source leaves it out."""

from ..core.errors import BinderopsError


class Mistake(BinderopsError):
    """Something the user can put right: the command says it in one line and exits 2."""

    kind = "usage"
