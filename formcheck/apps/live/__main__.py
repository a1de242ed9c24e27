"""``python -m formcheck.apps.live``: the same as ``formcheck live``."""

import sys

from formcheck.apps.live.command import main

sys.exit(main())
