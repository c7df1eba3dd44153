from __future__ import annotations

import sys

from tessera.cli import main

sys.exit(main())
