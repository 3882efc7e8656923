"""`python -m aura_operator` runs the same command line as the `aura-operator` script."""

from aura_operator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
