"""Puts the Lambda runtime on the import path for local tools.

``tunestack_runtime`` ships in the Lambda asset (``lambdas/``), not in this package; the command
line runs the very same modules from there.
"""

from __future__ import annotations

import sys
from pathlib import Path

LAMBDA_SOURCE = Path(__file__).resolve().parents[1] / "lambdas"
if str(LAMBDA_SOURCE) not in sys.path:
    sys.path.append(str(LAMBDA_SOURCE))
