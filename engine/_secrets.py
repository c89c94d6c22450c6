"""Secrets never land in a file: every byte inspect-run writes passes through `redact`.

Redaction goes by meaning, not by a list of variables:
- values under names that mean a credential (`authorization`, `cookie`, `x-api-key`, anything
  whose last word is key, token, secret, password, credential(s), auth) in JSON, Python reprs,
  YAML lines and `name=value` text, and in structured trees (`redact_tree`);
- URL userinfo (`https://user:pass@host`) and query parameters such as `key=`, `token=`, `sig=`;
- the value of every credential environment variable (`*_API_KEY`, `*_TOKEN`, …): long values
  wherever they appear, short ones where they stand alone, so a 5-character key echoed in a
  provider's 401 message is masked too (providers echo keys: "Incorrect API key provided: …");
- known key shapes (`sk-…`, `AIza…`, `AKIA…`, `hf_…`, `Bearer …`).

Names that only mention tokens (`max_tokens`, `last_n_tokens_size`, `reasoning_tokens`) are not
credentials. Redaction happens where text is written, not where it is produced.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
_MIN_SECRET_LENGTH = 6
"""Below this, an environment value is masked only where it stands alone (not inside words)."""

_CREDENTIAL_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "credential",
        "credentials",
        "authorization",
        "auth",
        "cookie",
        "cookies",
    }
)
"""A name whose last word is one of these holds a credential (`api_key`, `x-goog-api-key`)."""
_URL_PARAM_WORDS = frozenset({"sig", "signature"})
"""Query parameters that carry a credential besides those named like one (`sig=`, SAS tokens)."""
_BARE_IN_TEXT = frozenset({"key", "token"})
"""Alone, these name ordinary data in logs (a logprob's `token`, a cache `key`): in free text and
JSON only longer names count (`api_key`, `x-api-key`); in configs and URLs the bare ones do too."""
_NOT_SECRET_VALUES = frozenset({"true", "false", "null", "none", "yes", "no", ""})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_OLD_ENV_NAME = re.compile(
    r"(api_?key|endpoint_?key|token|secret|password|credential)", re.IGNORECASE
)


def name_words(name: str) -> list[str]:
    """`xGoogApiKey`, `x-goog-api-key` and `X_GOOG_API_KEY` → ['x', 'goog', 'api', 'key']."""
    return [word.lower() for word in _WORDS.findall(name)]


def is_credential_name(name: str) -> bool:
    """True for names that mean a credential: `api_key`, `Authorization`, `x-api-key`,
    `aws_secret_access_key`, `auth_token`, `cookie`; false for `max_tokens`,
    `last_n_tokens_size`, `aws_access_key_id` (an id, not a secret)."""
    words = name_words(name)
    return bool(words) and words[-1] in _CREDENTIAL_WORDS


def _credential_in_text(name: str) -> bool:
    words = name_words(name.rsplit(".", 1)[-1])
    if not words or words[-1] not in _CREDENTIAL_WORDS:
        return False
    return len(words) > 1 or words[0] not in _BARE_IN_TEXT


def _credential_url_param(name: str) -> bool:
    words = name_words(name)
    return bool(words) and (words[-1] in _CREDENTIAL_WORDS or words[-1] in _URL_PARAM_WORDS)


def is_credential_env_name(name: str) -> bool:
    """Environment variables that hold credentials (`OPENAI_API_KEY`, `HF_TOKEN`, …)."""
    return is_credential_name(name) or bool(_OLD_ENV_NAME.search(name))


_remembered: set[str] = set()
"""Credential values the run read (`remember`), masked whatever their length."""
_remembered_version = 0
"""Counts `remember` calls that added a value (a `Redactor` re-sorts its secrets then)."""


def remember(value: str | None) -> None:
    """Mask `value` from now on wherever it stands alone, however short (a key the run read)."""
    global _remembered_version
    if (
        value
        and value not in _remembered
        and value.strip().lower() not in _NOT_SECRET_VALUES
        and not value.isdigit()
    ):
        _remembered.add(value)
        _remembered_version += 1


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Credential values from the environment (which already holds `.env`), longest first.

    Long values of any credential-looking variable; short ones only of variables whose name ends
    in a credential word (`OPENAI_API_KEY=abcde`), never `true`/`false`/numbers."""
    source = os.environ if environ is None else environ
    values = set()
    for name, value in source.items():
        if not value or not is_credential_env_name(name):
            continue
        if len(value) >= _MIN_SECRET_LENGTH or (
            is_credential_name(name)
            and value.strip().lower() not in _NOT_SECRET_VALUES
            and not value.isdigit()
        ):
            values.add(value)
    return sorted(values, key=len, reverse=True)


_KEY_SHAPES = re.compile(
    r"\b(?:sk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{16,}"
    r"|AIza[0-9A-Za-z_-]{30,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|(?:xai|pplx|gsk|glpat)[-_][A-Za-z0-9_-]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,})"
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^/\s@'\"<>]+)@")
_QUERY_PARAM = re.compile(r"([?&;])([A-Za-z][\w.-]*)=([^&#\s'\"<>]*)")
_QUOTED_PAIR = re.compile(
    r"""(?P<q>["'])(?P<name>[A-Za-z][\w.-]{0,80})(?P=q)(?P<sep>\s*:\s*)"""
    r"""(?P<vq>["'])(?P<value>(?:\\.|(?!(?P=vq))[^\\\n])*)(?P=vq)"""
)
_LINE_PAIR = re.compile(
    r"(?m)^(?P<lead>[ \t]*(?:-[ \t]+)?)(?P<name>[A-Za-z][\w.-]{0,120})(?P<sep>[ \t]*:[ \t]+)"
    r"(?P<value>\S[^\n]*?)[ \t]*$"
)
_ASSIGNMENT = re.compile(r"(?<![\w.-])(?P<name>[A-Za-z][\w.-]{0,120})=(?P<value>[^\s\]\)'\",&]+)")


def _unresolved(value: str) -> bool:
    """An `${oc.env:NAME}` reference, masked nowhere: it names the variable, not the secret."""
    return value.startswith("${") and value.endswith("}")


def redact_urls(text: str) -> str:
    """URL userinfo and credential query parameters masked."""
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _QUERY_PARAM.sub(
        lambda m: (
            f"{m.group(1)}{m.group(2)}={MASK}"
            if _credential_url_param(m.group(2)) and m.group(3) and not _unresolved(m.group(3))
            else m.group(0)
        ),
        text,
    )


def _mask_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    if (
        not value
        or value == MASK
        or _unresolved(value)
        or not _credential_in_text(match.group("name"))
    ):
        return match.group(0)
    start, end = match.span("value")
    whole_start = match.start()
    text = match.group(0)
    return text[: start - whole_start] + MASK + text[end - whole_start :]


_AFTER_NAME = r"['\"]?\s*[:=]"
"""What follows a name in a pair: its closing quote, spaces, then `:` or `=`."""
_CREDENTIAL_NAME_END = re.compile(
    "(?:" + "|".join(sorted(_CREDENTIAL_WORDS, key=len, reverse=True)) + ")" + _AFTER_NAME
)
"""Where a name ending in a credential word meets its `:` or `=`: a text without one has no pair
to mask, so the pair patterns (most of a log sample's redaction cost) are skipped. Searched in
the lower-cased text: a case-insensitive alternation is an order of magnitude slower. (What
`_has_credential_name_end` finds faster.)"""


_KEY_SHAPE_GATES = (
    "sk-",
    "AIza",
    "AKIA",
    "ASIA",
    "gh",
    "hf_",
    "xai",
    "pplx",
    "gsk",
    "glpat",
    "xox",
)
"""Literals every match of `_KEY_SHAPES` starts with one of: a text holding none of them has no
key shape to mask. Looked for with `in`, one pass each: half the instructions of one pass of an
alternation, which `re` tries at every `s`, `A`, `g`, `h`, `x` and `p` of a sample's JSON."""
_NAME_END_WORDS = tuple(
    word
    for word in _CREDENTIAL_WORDS
    if not any(w != word and word.endswith(w) for w in _CREDENTIAL_WORDS)
)
"""The credential words no other one ends with (`apikey` ends with `key`, so a name ending in
`apikey` ends in `key` too)."""


def _gated(
    words: tuple[str, ...], stems: tuple[str, ...] = ()
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`words` grouped under the shortest of them or of `stems` each one contains (`cookies`
    under `cookie`, `authorization` under `auth`, `passwd` under the stem `pass`): a text
    without the gate holds none of its group. Each gate is one pass over a text."""
    groups: dict[str, list[str]] = {}
    for word in words:
        gate = min((other for other in (*words, *stems) if other in word), key=len)
        groups.setdefault(gate, []).append(word)
    return tuple((gate, tuple(group)) for gate, group in groups.items())


def _name_end_of(words: tuple[str, ...]) -> re.Pattern[str]:
    """One of `words` meeting its `:` or `=`, their common start written once (`pass(?:phrase|wd|
    word)…`): `re` then scans for that literal at C speed, not branch by branch."""
    start = words[0]
    for word in words[1:]:
        while not word.startswith(start):
            start = start[:-1]
    rests = sorted((word[len(start) :] for word in words), key=len, reverse=True)
    return re.compile(
        re.escape(start) + "(?:" + "|".join(map(re.escape, rests)) + ")" + _AFTER_NAME
    )


_NAME_END_GATES = tuple(
    (gate, _name_end_of(words)) for gate, words in _gated(_NAME_END_WORDS, stems=("pass",))
)


def _has_credential_name_end(lower: str) -> bool:
    """`_CREDENTIAL_NAME_END.search(lower)`, a group of words at a time, each only where its gate
    is in the text: far faster on a log sample, whose usage keys name tokens (`input_tokens`, a
    dozen times) but no credential."""
    return any(gate in lower and pattern.search(lower) for gate, pattern in _NAME_END_GATES)


def redact_by_meaning(text: str) -> str:
    """Values under credential names, URL credentials and known key shapes masked.

    Each pattern runs only on a text that holds what every one of its matches must hold (`@`
    and `://` for URL userinfo, `=` for a query parameter, the word `bearer`/`basic`, a key
    shape's literal start), found by `str` methods at C speed: the same result as running them
    all, at a fraction of the cost on the usual text (a log sample: a few kB with no secret)."""
    if "@" in text and "://" in text:
        text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    if "=" in text:
        text = _QUERY_PARAM.sub(
            lambda m: (
                f"{m.group(1)}{m.group(2)}={MASK}"
                if _credential_url_param(m.group(2)) and m.group(3) and not _unresolved(m.group(3))
                else m.group(0)
            ),
            text,
        )
    lower = text.lower()
    if ("=" in text or ":" in text) and _has_credential_name_end(lower):
        text = _QUOTED_PAIR.sub(_mask_pair, text)
        text = _LINE_PAIR.sub(_mask_pair, text)
        text = _ASSIGNMENT.sub(_mask_pair, text)
        lower = text.lower()
    # IGNORECASE also folds a few non-ASCII letters (`ſ`, `ı`, `K`) onto ASCII ones.
    if not text.isascii() or "bearer" in lower or "basic" in lower:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    if any(gate in text for gate in _KEY_SHAPE_GATES):
        text = _KEY_SHAPES.sub(MASK, text)
    return text


def _alone(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(value)}(?![A-Za-z0-9_-])")


class Redactor:
    """Masks the environment's credentials (read once) and the run's (as they are read), then
    everything `redact_by_meaning` recognises."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = secret_values() if secrets is None else secrets
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._sorted: list[str] = []
        self._sorted_for: tuple[int, int, int] | None = None
        """The secrets longest first, and what they were made from (re-made when it changes)."""

    def __call__(self, text: str) -> str:
        made_for = (_remembered_version, id(self.secrets), len(self.secrets))
        if self._sorted_for != made_for:
            self._sorted = sorted({*self.secrets, *_remembered}, key=len, reverse=True)
            self._sorted_for = made_for
        for secret in self._sorted:
            if secret not in text:
                continue
            if len(secret) >= _MIN_SECRET_LENGTH:
                text = text.replace(secret, MASK)
            else:
                pattern = self._patterns.get(secret) or self._patterns.setdefault(
                    secret, _alone(secret)
                )
                text = pattern.sub(MASK, text)
        return redact_by_meaning(text)


def redact(text: str) -> str:
    """Redact with the environment as it is now (for one-off messages)."""
    return Redactor()(text)


def redact_tree(tree: Any) -> Any:
    """A copy of a config-like tree with credential-named values and URL credentials masked
    (`${oc.env:…}` references kept: they name a variable, not its value)."""
    if isinstance(tree, Mapping):
        return {
            key: MASK
            if isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and str(value)
            and not _unresolved(str(value))
            and is_credential_name(str(key))
            else redact_tree(value)
            for key, value in tree.items()
        }
    if isinstance(tree, list | tuple):
        return [redact_tree(item) for item in tree]
    if isinstance(tree, str):
        return redact_urls(tree)
    return tree


_ENV_REFERENCE = re.compile(r"\$\{oc\.env:[^}]*\}")
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "bot", "key", "apikey", "digest", "sso-key"})


def from_environment(value: str) -> bool:
    """`${oc.env:NAME}`, or `Bearer ${oc.env:NAME}`: a credential read from the environment
    when the config is used, which Hydra saves as the reference, not the value."""
    rest = _ENV_REFERENCE.sub("", value).strip()
    return rest != value.strip() and (not rest or rest.lower() in _AUTH_SCHEMES)


def literal_url_credential(text: str) -> str | None:
    """What in `text` is a credential written into a URL (userinfo, `?key=`), if anything:
    parts that are `${oc.env:…}` references do not count."""
    for match in _USERINFO.finditer(text):
        if _ENV_REFERENCE.sub("", match.group(2)).strip(":"):
            return "a user name or password in a URL"
    for match in _QUERY_PARAM.finditer(text):
        value = match.group(3)
        if _credential_url_param(match.group(2)) and value and _ENV_REFERENCE.sub("", value):
            return f"the URL parameter {match.group(2)}="
    return None


def mentions_env_secret(text: str) -> bool:
    """Whether `text` holds the value of a credential from the environment."""
    for secret in secret_values():
        if len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            return True
        if len(secret) < _MIN_SECRET_LENGTH and _alone(secret).search(text):
            return True
    return False
