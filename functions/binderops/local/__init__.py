"""The one-machine tooling: the ``binderops`` command, the local stack, samples. The deployed
functions never import it (a test pins that) and their source leaves it out."""
