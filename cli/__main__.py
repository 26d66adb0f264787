"""``python -m cli``: the same as the ``toolmaker`` command."""

import sys

from cli.app import main

sys.exit(main())
