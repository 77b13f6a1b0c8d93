import sys

from studies.cli.app import main

sys.exit(main())
