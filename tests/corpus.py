"""Location of the shared real-document corpus that tests read (never write)."""

import os
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parent.parent


def _shared_data() -> Path:
    """Return ``$RAGFLOW_SHARED_DATA``, else ``../shared/data`` beside the checkout, else /work/shared/data."""
    candidates = [os.environ.get("RAGFLOW_SHARED_DATA"), _REPOSITORY.parent / "shared" / "data", "/work/shared/data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return _REPOSITORY.parent / "shared" / "data"


SHARED_DATA = _shared_data()
DOCS = SHARED_DATA / "docs"
