"""Developer scripts; a package so that `python -m hack.demo` imports `tests.harness` cleanly."""
