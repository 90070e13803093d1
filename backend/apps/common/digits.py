"""Digits as people type them: Saudi keyboards write Arabic-Indic digits (٠١٢٣),
Persian and Urdu ones Eastern Arabic-Indic digits (۰۱۲۳)."""

import unicodedata


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script written as 0-9; anything else
    is kept as it is (superscripts and other digit-like signs are not decimal digits)."""
    return "".join(str(value) if (value := unicodedata.decimal(char, None)) is not None else char for char in text)
