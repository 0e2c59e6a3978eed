import sys

from lmteams.runtime.cli import main

sys.exit(main())
