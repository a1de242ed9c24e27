import sys

from formcheck.apps.cli import main

sys.exit(main())
