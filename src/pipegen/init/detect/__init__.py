"""What an existing repository already says about itself, one detector per concern.

`pipegen init` asks these modules; each answers one question from files on disk and says
where the answer came from (a `Finding`), so init can print it and write it as a comment.
Nothing reads the network and nothing runs the project's code (setup.py is parsed, not run).
"""
from __future__ import annotations

from pipegen.records import record


@record
class Finding:
    """One detected value and where it came from (printed by init, written as a comment)."""

    value: str
    source: str
