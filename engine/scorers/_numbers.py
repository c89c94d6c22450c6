"""Reading numbers as models write them, with Inspect AI 0.3.285's rules for what is a number.

A text is a number when Python's `float` reads it, or when it is written with Unicode: a Unicode
minus, digits of any script, group separators (`1,000`, `1 000`, `1'000`), a decimal comma
(`3,14`), a vulgar fraction (`2½`), a superscript exponent (`3²`), a single numeric symbol (`Ⅻ`)
or Chinese numerals (`十二`). Infinite and NaN values are not numbers.

Values are exact `Decimal`s, not floats rounded to 5 significant digits as Inspect compares them:
`3.14159` is not `3.1416` (see README, "Differences from Inspect AI").
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation, localcontext

_MINUS = "-−﹣－"
_PLUS = "+＋﹢"
_CHINESE_MINUS = "负負"
_CHINESE_PLUS = "正"
_DECIMAL_EXTRAS = "٫．"
_GROUP = ",，﹐、٬ \u00a0\u202f\u2009\u2007\u2008'’ʼ＇"
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_CHINESE_DIGITS = dict(zip("零〇○一二三四五六七八九", (0, 0, *range(10)), strict=True)) | {
    **dict(zip("壹贰貳叁參肆伍陆陸柒捌玖", (1, 2, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9), strict=True)),
    "两": 2,
    "兩": 2,
    "幺": 1,
}
_CHINESE_TENS = {"廿": 20, "卅": 30, "卌": 40}
_CHINESE_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CHINESE_LARGE_UNITS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8, "兆": 10**12}
_CHINESE_POINT = "点點"
_CHINESE = (
    set(_CHINESE_DIGITS)
    | set(_CHINESE_TENS)
    | set(_CHINESE_SMALL_UNITS)
    | set(_CHINESE_LARGE_UNITS)
    | set(_CHINESE_POINT)
    | set(_CHINESE_MINUS + _CHINESE_PLUS)
)
_SENTENCE_PUNCTUATION = "!?:;()[]{}'\"`"
"""Trimmed around a number ("42!", "(42)"); operators like `~`, `<`, `=` are not: "~42" is a
hedge, not the value."""


def strip_numeric_punctuation(text: str) -> str:
    """Drop currency and formatting marks (`$ € £ , * _`, LaTeX-escaped too) and a `.` that does
    not start decimals (a full stop), as Inspect does before reading numbers."""
    text = re.sub(r"\\([$,£€*_])", r"\1", text)
    text = re.sub(r"[$,£€*_]", "", text)
    return re.sub(r"\.(?=\s|$|\D)", "", text)


def read_number(text: str, trim_punctuation: bool = True) -> Decimal | None:
    """The exact value of a text that is one number (see the module docstring), else None."""
    if trim_punctuation:
        text = text.strip(_SENTENCE_PUNCTUATION)
    try:
        python = float(text)
    except ValueError:
        python = None
    if python is not None and math.isfinite(python):
        return Decimal(text.strip().replace("_", ""))
    try:
        value = _read_unicode(text)
    except (ValueError, ArithmeticError):
        return None
    if value is None:
        return None
    try:
        return value if math.isfinite(float(value)) else None
    except OverflowError:  # pragma: no cover - float() of a Decimal gives inf, not an error
        return None


def is_number(text: str) -> bool:
    return read_number(text) is not None


def _read_unicode(text: str) -> Decimal | None:
    text, negative = _leading_signs(text.strip())
    if not text:
        return None
    value = _single_symbol(text)
    if value is None:
        base, exponent = _superscript_exponent(text)
        value = _with_fraction(base)
        if value is None:
            return None
        if negative:
            value = -value
        if exponent is not None:
            if abs(exponent) > 10_000:  # as a float, like Inspect: 1¹⁰⁰⁰⁰⁰ is 1, 10¹⁰⁰⁰⁰⁰ no number
                return Decimal(repr(float(value) ** exponent))
            with localcontext() as context:
                context.traps[InvalidOperation] = True
                value = value**exponent
        return value
    return -value if negative else value


def _leading_signs(text: str) -> tuple[str, bool]:
    """Signs before the number; each minus flips the sign ("−-3" is 3)."""
    negative = False
    while text and text[0] in _MINUS + _PLUS + _CHINESE_MINUS + _CHINESE_PLUS:
        negative ^= text[0] in _MINUS + _CHINESE_MINUS
        text = text[1:].lstrip()
    return text, negative


def _single_symbol(text: str) -> Decimal | None:
    if len(text) != 1:
        return None
    try:
        return _exact(unicodedata.numeric(text))
    except (TypeError, ValueError):
        return None


def _exact(value: float) -> Decimal:
    """A Unicode numeric value (a float like 0.333…) as the decimal it stands for."""
    if value == int(value):
        return Decimal(int(value))
    for denominator in (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 20, 32, 64, 80, 160, 320):
        numerator = value * denominator
        if abs(numerator - round(numerator)) < 1e-9:
            return Decimal(round(numerator)) / Decimal(denominator)
    return Decimal(repr(value))


def _superscript_exponent(text: str) -> tuple[str, int | None]:
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in _GROUP):
        end -= 1
    start = end
    while start and text[start - 1] in _SUPERSCRIPT_DIGITS:
        start -= 1
    if start == end:
        return text.strip(), None
    if start and text[start - 1] in "⁻⁺":
        start -= 1
    base = text[:start].rstrip()
    if not base:
        return text.strip(), None
    return base, int(text[start:end].translate(_SUPERSCRIPTS))


def _fraction_value(char: str) -> Decimal | None:
    try:
        value = unicodedata.numeric(char)
    except (TypeError, ValueError):
        return None
    return _exact(value) if 0 < value < 1 else None


def _with_fraction(text: str) -> Decimal | None:
    """A number with at most one vulgar fraction at its end ("2½", "½")."""
    fractions = [(i, v) for i, char in enumerate(text) if (v := _fraction_value(char)) is not None]
    if not fractions:
        return _core(text)
    if len(fractions) > 1:
        raise ValueError("several fractions")
    index, fraction = fractions[0]
    head, tail = text[:index].strip(), text[index + 1 :].strip()
    if any(not (char.isspace() or char in _GROUP) for char in tail):
        raise ValueError("text after a fraction")
    if not head:
        return fraction
    whole = _core(head)
    if whole is None:
        raise ValueError("not a number before the fraction")
    return whole + fraction


def _core(text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    if any(char in _CHINESE for char in text):
        value = _chinese(text)
        if value is not None:
            return value
    value = _digits(text)
    if value is not None:
        return value
    return _single_symbol(text)


def _digit(char: str) -> str | None:
    if "0" <= char <= "9":
        return char
    for read in (unicodedata.decimal, unicodedata.digit):
        try:
            return str(read(char))
        except (TypeError, ValueError):
            pass
    found = _CHINESE_DIGITS.get(char)
    return None if found is None else str(found)


def _decimal_mark(text: str) -> str | None:
    """`.` or `,`, whichever comes last when both appear; a lone `,` before 1-3 digits."""
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    if dot >= 0:
        return "."
    if comma >= 0:
        digits_after = sum(1 for char in text[comma + 1 :] if _digit(char) is not None)
        return "," if digits_after in (1, 2, 3) else None
    return None


def _digits(text: str) -> Decimal | None:
    """Digits of any script with group separators, one decimal mark and an ASCII exponent."""
    mark = _decimal_mark(text)
    out: list[str] = []
    seen_mark = seen_exponent = False
    position = 0
    while position < len(text):
        char = text[position]
        position += 1
        if char in "eE" and not seen_exponent:
            if not out:
                return None
            out.append("e")
            seen_exponent = True
            if position < len(text) and text[position] in _MINUS + _PLUS:
                out.append("-" if text[position] in _MINUS else "+")
                position += 1
        elif char in _DECIMAL_EXTRAS or char == mark:
            if seen_mark:
                return None
            out.append(".")
            seen_mark = True
        elif char in _GROUP or char.isspace() or (mark and char in ",." and char != mark):
            continue
        elif (digit := _digit(char)) is not None:
            out.append(digit)
        else:
            return None
    if all(char in ".e+-" for char in out):
        return None
    written = "".join(out)
    try:
        float(written)  # what Python cannot read is not a number ("1e", "1.e5.")
    except ValueError:
        return None
    return Decimal(written)


def _chinese(text: str) -> Decimal | None:
    whole, fraction = text, ""
    for point in (*_CHINESE_POINT, "．", "."):
        if point in text:
            whole, _, fraction = text.partition(point)
            break
    if not any(
        c in _CHINESE_SMALL_UNITS or c in _CHINESE_LARGE_UNITS or c in _CHINESE_TENS for c in whole
    ):
        digits = [_digit(char) for char in whole if not char.isspace()]
        if any(digit is None for digit in digits):
            return None
        integer = int("".join(d for d in digits if d is not None) or "0")
    else:
        found = _chinese_units(whole)
        if found is None:
            return None
        integer = found
    decimals = [_digit(char) for char in fraction if not char.isspace()]
    if any(digit is None for digit in decimals):
        return None
    return Decimal(integer) + (
        Decimal("0." + "".join(d for d in decimals if d is not None)) if decimals else 0
    )


def _chinese_units(text: str) -> int | None:
    total = section = number = 0
    for char in text:
        if char.isspace() or char in "零〇○":
            continue
        if char in _CHINESE_TENS:
            section += _CHINESE_TENS[char]
        elif char in _CHINESE_DIGITS:
            number = _CHINESE_DIGITS[char]
        elif (digit := _digit(char)) is not None:
            number = int(digit)
        elif char in _CHINESE_SMALL_UNITS:
            section += (number or 1) * _CHINESE_SMALL_UNITS[char]
            number = 0
        elif char in _CHINESE_LARGE_UNITS:
            total += (section + number) * _CHINESE_LARGE_UNITS[char]
            section = number = 0
        else:
            return None
    return total + section + number
