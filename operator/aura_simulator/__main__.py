"""`python -m aura_simulator`: the simulator without the operator's command line around it."""

from aura_simulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
