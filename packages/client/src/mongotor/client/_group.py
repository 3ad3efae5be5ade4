"""The 2012 ``group`` command (removed in MongoDB 4.2), as an aggregation.

``group(key, condition, initial, reduce)`` is translated when its reduce can be
expressed with ``$group`` accumulators: either a mapping of accumulators
(``{"total": {"$sum": "$amount"}}``), or a JavaScript function whose body only
adds to the result's fields::

    function (doc, out) { out.count++; out.total += doc.amount; out.n += 2; }

(``f++``, ``++f``, ``f += <number or doc.path>``, ``f = f + <number or
doc.path>``). Each field's initial value is added to its sum. Anything else
(a ``keyf``, a ``finalize`` function, other JavaScript) raises
:class:`~mongotor.errors.InterfaceError` pointing to ``aggregate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from mongotor.errors import InterfaceError

__all__ = ["group_pipeline"]

_NAME: Final = r"[A-Za-z_$][\w$]*"
_PATH: Final = rf"{_NAME}(?:\.{_NAME})*"
_NUMBER: Final = r"-?\d+(?:\.\d+)?"
_FUNCTION: Final = re.compile(
    rf"^\s*function\s*\(\s*({_NAME})\s*,\s*({_NAME})\s*\)\s*\{{(.*)\}}\s*;?\s*$", re.DOTALL
)
_ADVICE: Final = (
    "; MongoDB removed the group command in 4.2: write the aggregation yourself "
    "with Client.aggregate([{'$match': ...}, {'$group': ...}])"
)


def _term(text: str, document: str) -> Any:
    """A summand: a number, or a path of the current document as ``$path``."""
    text = text.strip()
    if re.fullmatch(_NUMBER, text):
        return float(text) if "." in text else int(text)
    if re.fullmatch(_PATH, text) and text.startswith(document + "."):
        return "$" + text[len(document) + 1 :]
    raise InterfaceError(f"group(): cannot translate {text!r} in reduce{_ADVICE}")


def _parse_reduce(reduce: str) -> dict[str, list[Any]]:
    """Field -> the summands the reduce adds to it for each document."""
    match = _FUNCTION.match(reduce)
    if match is None:
        raise InterfaceError(f"group(): reduce is not a function(doc, result) {{...}}{_ADVICE}")
    document, result, body = match.groups()
    field = rf"{re.escape(result)}\.({_NAME})"
    patterns = (
        (re.compile(rf"^{field}\s*\+\+$"), None),
        (re.compile(rf"^\+\+\s*{field}$"), None),
        (re.compile(rf"^{field}\s*\+=\s*(.+)$"), 2),
        (re.compile(rf"^{field}\s*=\s*{re.escape(result)}\.(\1)\s*\+\s*(.+)$"), 3),
    )
    sums: dict[str, list[Any]] = {}
    for raw in re.split(r"[;\n]", body):
        statement = raw.strip()
        if not statement:
            continue
        for pattern, group in patterns:
            found = pattern.match(statement)
            if found is not None:
                term = 1 if group is None else _term(found.group(group), document)
                sums.setdefault(found.group(1), []).append(term)
                break
        else:
            raise InterfaceError(
                f"group(): cannot translate the statement {statement!r} of reduce{_ADVICE}"
            )
    return sums


def _key_fields(key: Mapping[str, Any] | Iterable[str] | None) -> list[str]:
    if key is None:
        return []
    names = list(key)
    for name in names:
        if not isinstance(name, str) or "." in name or name.startswith("$"):
            raise InterfaceError(f"group(): cannot group by {name!r}{_ADVICE}")
    return names


def group_pipeline(
    key: Mapping[str, Any] | Iterable[str] | None,
    condition: Mapping[str, Any] | None,
    initial: Mapping[str, Any],
    reduce: str | Mapping[str, Any],
    finalize: str | None = None,
) -> list[dict[str, Any]]:
    """The aggregation pipeline equivalent to the 2012 ``group`` call. Its results
    have the key fields and the ``initial`` fields at the top level, as
    ``group`` returned them. Raises :class:`InterfaceError` when the reduce (or a
    finalize) cannot be expressed."""
    if finalize is not None:
        raise InterfaceError(f"group(): a finalize function cannot be translated{_ADVICE}")
    if isinstance(key, str):
        raise InterfaceError(f"group(): a key function (keyf) cannot be translated{_ADVICE}")
    names = _key_fields(key)
    accumulators: dict[str, Any] = {}
    finals: dict[str, Any] = {}
    if isinstance(reduce, Mapping):
        accumulators = dict(reduce)
        finals = {name: f"${name}" for name in accumulators}
    else:
        for name, terms in _parse_reduce(reduce).items():
            start = initial.get(name, 0)
            if isinstance(start, bool) or not isinstance(start, int | float):
                raise InterfaceError(
                    f"group(): the initial value of {name!r} must be a number{_ADVICE}"
                )
            summand = terms[0] if len(terms) == 1 else {"$add": terms}
            accumulators[name] = {"$sum": summand}
            finals[name] = {"$add": [start, f"${name}"]} if start else f"${name}"
    pipeline: list[dict[str, Any]] = []
    if condition:
        pipeline.append({"$match": condition})
    group_id = {name: f"${name}" for name in names} if names else None
    pipeline.append({"$group": {"_id": group_id, **accumulators}})
    projection: dict[str, Any] = {"_id": 0}
    projection.update({name: f"$_id.{name}" for name in names})
    for name, value in initial.items():
        if name not in finals:
            projection[name] = {"$literal": value}
    projection.update(finals)
    pipeline.append({"$project": projection})
    return pipeline
