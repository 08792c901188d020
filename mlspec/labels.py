"""Which label of a binary target is the positive class: the rule, without pandas.

Every binary metric (precision, recall, F1, average precision, ROC AUC on the positive class's probability)
depends on which of the two labels is positive. Labels 0/1 and False/True say so themselves; any other pair
(``yes``/``no``, ``affair``/``faithful``) does not, and guessing (scikit-learn's "the label that sorts last")
silently judges a model on the wrong class. So such a target must name its ``data.positive_class``. The data
stage, the train stage and ``mlspec validate --data`` apply this same rule (:func:`positive_problem`).

YAML reads a bare ``yes``/``no``/``true``/``on`` as a boolean, so ``positive_class: yes`` is True; when the
labels are text, the message says to quote it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# What YAML 1.1 (PyYAML) reads as a boolean: the text a user most likely meant by a boolean positive_class.
_YAML_TRUE = ("yes", "y", "true", "on")
_YAML_FALSE = ("no", "n", "false", "off")


def natural_positive(seen: Sequence[Any]) -> Any | None:
    """The positive class two labels name themselves: 1 of {0, 1}, True of {False, True}; else None."""
    values = list(seen)
    if len(values) != 2:
        return None
    if all(isinstance(v, bool) for v in values) and set(values) == {False, True}:
        return True
    if all(_is_number(v) for v in values) and sorted(float(v) for v in values) == [0.0, 1.0]:
        return next(v for v in values if float(v) == 1.0)
    return None


def match(declared: Any, seen: Sequence[Any]) -> Any | None:
    """The label of ``seen`` that ``declared`` names: equal in value and kind (True is not 1), or, for a
    number written for text labels (``1`` for ``"1"``), equal as text when exactly one label is."""
    for label in seen:
        if _kind(label) == _kind(declared) and label == declared:
            return label
    if not isinstance(declared, bool):
        same_text = [label for label in seen if isinstance(label, str) and label == str(declared)]
        if len(same_text) == 1:
            return same_text[0]
    return None


def resolve(seen: Sequence[Any], declared: Any | None) -> Any:
    """The positive class among the binary labels ``seen``: the declared one, else the natural one, else the
    label that sorts last (what scikit-learn assumes; only for models trained before positive_class existed)."""
    if declared is not None:
        found = match(declared, seen)
        if found is not None:
            return found
    natural = natural_positive(seen)
    if natural is not None:
        return natural
    return sorted(seen, key=_sort_key)[-1]


def positive_problem(seen: Mapping[Any, int] | Sequence[Any], declared: Any | None) -> str | None:
    """What is wrong with the positive class of a binary target whose labels are ``seen`` (label → count,
    or just the labels), given ``data.positive_class`` (None when not written); None if nothing is.

    Only a two-label target is judged: another number of labels is the task's problem, not this rule's."""
    labels = list(seen)
    if len(labels) != 2:
        return None
    shown = _shown(seen)
    if declared is None:
        if natural_positive(labels) is not None:
            return None
        first, second = sorted(labels, key=_sort_key)
        return (f"the task is binary and the labels are {shown}, which do not say which one is positive; "
                f"name it under data, `positive_class: {_yaml(first)}` or `positive_class: {_yaml(second)}` "
                "(the class whose precision, recall and probability the metrics are about)")
    if match(declared, labels) is not None:
        return None
    message = f"positive_class {_yaml(declared)} is not one of the labels, which are {shown}"
    meant = _meant_by_boolean(declared, labels)
    if meant is not None:
        message += (f"; YAML reads an unquoted {meant} as {str(declared).lower()}: quote it, "
                    f"`positive_class: {_yaml(meant)}`")
    else:
        message += f"; write one of them, e.g. `positive_class: {_yaml(sorted(labels, key=_sort_key)[0])}`"
    return message


def _meant_by_boolean(declared: Any, labels: Sequence[Any]) -> str | None:
    """The text label a YAML boolean most likely stood for (``yes`` for True), if one is among ``labels``."""
    if not isinstance(declared, bool) or not all(isinstance(v, str) for v in labels):
        return None
    words = _YAML_TRUE if declared else _YAML_FALSE
    candidates = [v for v in labels if v.lower() in words]
    return candidates[0] if candidates else None


def _shown(seen: Mapping[Any, int] | Sequence[Any]) -> str:
    if isinstance(seen, Mapping):
        return ", ".join(f"{_yaml(label)} ({count} row{'' if count == 1 else 's'})" for label, count in
                         sorted(seen.items(), key=lambda item: _sort_key(item[0])))
    return ", ".join(_yaml(label) for label in sorted(seen, key=_sort_key))


def _yaml(value: Any) -> str:
    """``value`` as it must be written in the spec: text in double quotes (so ``yes`` stays text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "number" if _is_number(value) else type(value).__name__


def _sort_key(value: Any) -> tuple[int, Any]:
    # Numbers before text: one label column never mixes them, but a message must not fail if it does.
    return (0, value) if _is_number(value) or isinstance(value, bool) else (1, str(value))
