"""A launch event as BinderHub v6 emits it, shared by the tests."""

V6 = {
    "timestamp": "2026-03-01T12:34:56.789Z",
    "schema": "binderhub.jupyter.org/launch",
    "version": 6,
    "provider": "GitHub",
    "spec": "binder-examples/requirements/HEAD",
    "ref": "50533eb",
    "status": "success",
    "build_token": False,
    "origin": "gesis.mybinder.org",
    "request_origin": "same-origin",
}
