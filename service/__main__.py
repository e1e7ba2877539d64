"""`python -m service`: the reference API service, configured by environment variables (PORT, CASHTRACE_*)."""

import sys

from service.server import main

sys.exit(main())
