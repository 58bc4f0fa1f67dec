"""A readable difference between two versions of a medical record, word by word and field by field.

Doctors compare a record's versions to see what a colleague changed: a line diff of clinical prose
marks whole paragraphs, so the words that were removed and added are marked instead, and fields that
did not change are left out. This is presentation only; the versions themselves come from the services.
"""
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

FIELDS = (("diagnostics", "Diagnostics"), ("observations", "Observations"),
          ("treatments", "Treatments"), ("misc", "Other notes"))
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "removed" or "added"
    text: str


@dataclass(frozen=True)
class FieldChange:
    label: str
    pieces: list[Piece]


def _pieces(before: str, after: str) -> list[Piece]:
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    pieces: list[Piece] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(new[j1:j2])))
    return pieces


def changes(before, after) -> list[FieldChange]:
    """What changed from `before` to `after` (records or versions: anything with the text fields)."""
    found = []
    for name, label in FIELDS:
        old, new = getattr(before, name) or "", getattr(after, name) or ""
        if old != new:
            found.append(FieldChange(label, _pieces(old, new)))
    return found
