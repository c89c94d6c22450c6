"""`python -m engine.cli`: how `workers=K` starts its worker processes."""

from engine.cli import main

main()
