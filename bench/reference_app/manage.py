"""`python bench/reference_app/manage.py migrate` (adds bench/ to the import path itself)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reference_app.settings")

from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
