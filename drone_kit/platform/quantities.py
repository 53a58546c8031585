"""Pure: Kubernetes quantities ("250m", "512Mi", "1e3"): their exact value, and the one way the
API server writes each.

The canonical form matters for server-side apply: an applied "1000m" merges into a live "1" as
a change, the server then stores "1" again, and the object's resourceVersion moves on every run
although nothing changed. Applying the canonical form keeps a re-run a no-op.
"""

from __future__ import annotations

import re
from fractions import Fraction

_PATTERN = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}


def is_quantity(text: str) -> bool:
    return bool(_PATTERN.match(text))


def parse(text: str | int | float) -> Fraction:
    """The exact value: "250m" → 1/4, "128Mi" → 134217728, "1e3" → 1000."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = Fraction(match[1]), match[2] or ""
    if suffix in _BINARY:
        return number * 2 ** _BINARY[suffix]
    if suffix not in _DECIMAL:  # an exponent: e3, E-2
        return number * Fraction(10) ** int(suffix[1:])
    return number * Fraction(10) ** _DECIMAL[suffix]


def canonical(text: str | int | float) -> str:
    """The form the API server stores: the largest unit of the quantity's own kind (binary for
    Ki..Ei, decimal otherwise) that leaves a whole number. "1000m" → "1", "0.5" → "500m",
    "2048Ki" → "2Mi", "1.5Gi" → "1536Mi"; a binary quantity under 1Ki, or not a whole number
    of bytes, is written in decimal ("0.5Ki" → "512"). Finer than nano is left as written."""
    value, suffix = parse(text), (_PATTERN.match(str(text)) or [""] * 3)[2] or ""
    if value == 0:
        return "0"
    if suffix in _BINARY and abs(value) >= 1024 and value.denominator == 1:
        exponent = 0
        while exponent < 60 and value % 1024 == 0:
            value, exponent = value / 1024, exponent + 10
        return f"{value}{_suffix_of_binary(exponent)}"
    exponent = -9
    if (value * 10**9).denominator != 1:
        return str(text)
    while exponent < 18 and (value / Fraction(10) ** (exponent + 3)).denominator == 1:
        exponent += 3
    mantissa = value / Fraction(10) ** exponent
    if suffix not in _DECIMAL:
        return f"{mantissa}e{exponent}" if exponent else f"{mantissa}"
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"


def _suffix_of_binary(exponent: int) -> str:
    return next((suffix for suffix, power in _BINARY.items() if power == exponent), "")
