import sys

from tunestack.cli.main import main

sys.exit(main())
