"""A faster, equivalent deep copy of pydantic v1's field objects while great-expectations loads.

Why (issue 18, goal 2: a 1 M-row month end to end from the CLI, imports included): GX 1.x builds
its expectations and fluent datasources as ``pydantic.v1`` models, and pydantic v1's model
metaclass deep-copies every base class's ``__fields__`` for each subclass it creates
(``fields.update(smart_deepcopy(base.__fields__))``, a known pydantic v1 cost: pydantic issues
#3728 and #9908). ``copy.deepcopy`` reaches each ``ModelField``, ``FieldInfo`` and ``Validator``
(slotted classes) through ``__reduce_ex__`` and ``copy._reconstruct``: measured here, ~3,800
fields copied that way, 0.65 s of the ~2.3 s GX import on this machine's cores; the copier below
does the same work in ~0.25 s.

What it does, and why it is the same copy: :func:`_slotted_copier` makes a copier for one class
that builds the new object with ``cls.__new__``, records it in the memo first (as
``copy._reconstruct`` does, so cycles resolve to it), and deep-copies each slot that is set with
the same memo: what ``object.__reduce_ex__(4)`` plus ``_reconstruct`` do for a slotted object
without ``__dict__`` and without a ``__getstate__``, ``__reduce__`` or ``__deepcopy__`` of its own,
minus the tuple of state in between. It is registered in ``copy``'s dispatch table for the exact
classes only (a subclass takes the ordinary path) and only while :func:`faster_field_copies` is
active, which the import of great-expectations is (``regflows/credit/quality.py``, ``_gx``).
A class that stops meeting those conditions in a pydantic upgrade is left to ``copy.deepcopy``
(:func:`_copyable`), and ``tests/regflows/credit/test_fieldcopy.py`` compares the two copies of
every pydantic v1 model GX defines.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
from collections.abc import Callable, Iterator
from typing import Any

Copier = Callable[[Any, dict[int, Any]], Any]


def _slots(cls: type) -> tuple[str, ...]:
    """Every slot of ``cls`` and its bases, in the order ``object.__getstate__`` lists them."""
    names: list[str] = []
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        for name in ([declared] if isinstance(declared, str) else declared):
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return tuple(names)


def _copyable(cls: type) -> bool:
    """True when ``copy.deepcopy`` would copy ``cls``'s instances slot by slot as
    :func:`_slotted_copier` does: every class of its MRO declares ``__slots__`` (no ``__dict__``)
    and none of them private (``__x``: stored under a mangled name), none defines its own copy or
    pickle hooks (arguments for ``__new__`` included), and ``copyreg`` has no reducer for it."""
    hooks = ("__deepcopy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__",
             "__getnewargs__", "__getnewargs_ex__")
    if cls in copyreg.dispatch_table:
        return False
    for klass in cls.__mro__[:-1]:  # object's own hooks are the default path
        if "__slots__" not in klass.__dict__ or "__dict__" in _slots(klass):
            return False
        if any(name.startswith("__") and not name.endswith("__") for name in _slots(klass)):
            return False
        if any(hook in klass.__dict__ for hook in hooks):
            return False
    return True


def _slotted_copier(cls: Any) -> Copier:
    slots = _slots(cls)

    def deep(obj: Any, memo: dict[int, Any]) -> Any:
        new = cls.__new__(cls)
        memo[id(obj)] = new
        for name in slots:
            try:
                value = getattr(obj, name)
            except AttributeError:  # a slot never set is not part of the state either
                continue
            setattr(new, name, copy.deepcopy(value, memo))
        return new

    return deep


def pydantic_v1_field_classes() -> tuple[type, ...]:
    """The pydantic v1 classes the metaclass's field copies are made of."""
    from pydantic.v1.class_validators import Validator
    from pydantic.v1.fields import FieldInfo, ModelField

    return (ModelField, FieldInfo, Validator)


@contextlib.contextmanager
def faster_field_copies(classes: tuple[type, ...] | None = None) -> Iterator[tuple[type, ...]]:
    """Within the block, deep copies of ``classes`` (pydantic v1's field classes by default) take
    :func:`_slotted_copier`; yields the classes that did (those :func:`_copyable` accepts). The
    table is restored afterwards, as it was."""
    try:
        chosen = pydantic_v1_field_classes() if classes is None else classes
    except ImportError:  # no pydantic v1 layer: nothing to speed up
        chosen = ()
    table: dict[type, Any] = copy._deepcopy_dispatch  # type: ignore[attr-defined]
    patched = tuple(cls for cls in chosen if cls not in table and _copyable(cls))
    for cls in patched:
        table[cls] = _slotted_copier(cls)
    try:
        yield patched
    finally:
        for cls in patched:
            table.pop(cls, None)
