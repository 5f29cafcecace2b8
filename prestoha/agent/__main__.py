"""``python -m prestoha.agent``: the agent without the ``cli`` extra."""

import sys

from prestoha.agent import main

sys.exit(main(prog="python -m prestoha.agent"))
