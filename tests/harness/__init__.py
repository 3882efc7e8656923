"""The e2e harness as a package: a real control plane, processes, identities and the
operator/simulator runners, shared by tests/e2e, `make demo` (hack/demo.py) and `make bench`.

It lives apart from tests/e2e so that importing it collects no tests and runs no conftest, and
so the demo and the benchmark import it as `tests.harness` when run with `python -m` from the
repository's root, with no `sys.path` edits.
"""
