"""Environment variables set for the length of a block (a data-source profile, an analytic's
parameters), then restored exactly: values that were unset are unset again."""
from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def environ(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
