"""The faster deep copy of pydantic v1's field objects (regflows/credit/fieldcopy.py, issue 18
goal 2): the same copy as ``copy.deepcopy``'s, used while great-expectations loads."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from regflows.credit.fieldcopy import _copyable, faster_field_copies, pydantic_v1_field_classes
from regflows.credit.quality import _gx

ROOT = Path(__file__).resolve().parents[3]
_SLOTTED = pydantic_v1_field_classes()


def _models() -> list[Any]:
    """Every pydantic v1 model class defined once great-expectations is loaded."""
    from pydantic.v1 import BaseModel

    _gx()
    found: list[Any] = []
    todo = list(BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


def _same(slow: Any, fast: Any, original: Any, pairs: dict[int, int], back: dict[int, int]) -> None:
    """``fast`` is the copy ``slow`` is: same types, same values, each object copied where the
    ordinary deep copy copied it (and shared where it shared it), the same aliasing inside:
    ``pairs`` maps each object of the ordinary copy met so far to its counterpart, ``back`` the
    other way (two objects of one copy are one object of the other in neither direction)."""
    assert type(slow) is type(fast)
    if typing.get_origin(slow) is not None:
        # an alias (List[X], Annotated[X, FieldInfo(...)]) is an immutable value, and which equal
        # alias a copy gets depends on typing's cache: compared by value (its repr shows the
        # FieldInfo's values too), identity aside
        assert repr(slow) == repr(fast)
        return
    if slow is original:  # atomic for deepcopy (types, functions, strings): shared alike
        assert fast is original
        return
    assert fast is not original
    if id(slow) in pairs or id(fast) in back:  # met again: its counterpart is the one met with it
        assert pairs.get(id(slow)) == id(fast) and back.get(id(fast)) == id(slow)
        return
    pairs[id(slow)] = id(fast)
    back[id(fast)] = id(slow)
    if type(slow) in _SLOTTED:
        for cls in type(slow).__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                missing = object()
                a, b, o = (getattr(x, name, missing) for x in (slow, fast, original))
                assert (a is missing) == (b is missing), name
                if a is not missing:
                    _same(a, b, o, pairs, back)
    elif isinstance(slow, dict):
        assert list(slow) == list(fast)
        for key in slow:
            _same(slow[key], fast[key], original[key], pairs, back)
    elif isinstance(slow, (list, tuple)):
        assert len(slow) == len(fast) == len(original)
        for a, b, o in zip(slow, fast, original):
            _same(a, b, o, pairs, back)
    elif type(slow).__eq__ is object.__eq__ and hasattr(slow, "__dict__"):  # a plain object (DeferredType)
        _same(vars(slow), vars(fast), vars(original), pairs, back)
    else:
        assert slow == fast


def test_every_model_great_expectations_defines_copies_the_same() -> None:
    models = _models()
    assert len(models) > 300  # GX 1.x: its expectations, fluent datasources, configs
    assert all(_copyable(cls) for cls in _SLOTTED)  # a pydantic upgrade that changes them fails here
    for cls in models:
        fields = cls.__fields__
        slow = copy.deepcopy(fields)
        with faster_field_copies() as patched:
            fast = copy.deepcopy(fields)
        assert patched == _SLOTTED
        _same(slow, fast, fields, {}, {})


def test_the_table_is_restored_and_a_subclass_takes_the_ordinary_path() -> None:
    from pydantic.v1.fields import ModelField

    table = copy._deepcopy_dispatch  # type: ignore[attr-defined]
    before = dict(table)
    with faster_field_copies():
        assert ModelField in table
    assert table == before

    class Own(ModelField):
        __slots__ = ()

    assert Own not in table and not _copyable(type("WithDict", (ModelField,), {}))


def test_classes_deepcopy_copies_otherwise_are_left_to_it() -> None:
    """What would make the slot-by-slot copy differ from ``copy.deepcopy``'s (a pydantic upgrade
    could bring any): a private slot (stored mangled), arguments for ``__new__``, a ``copyreg``
    reducer, a ``__dict__``, copy hooks of its own."""
    import copyreg

    class Plain:
        __slots__ = ("a",)

    class Private:
        __slots__ = ("__a",)

    class NewArgs:
        __slots__ = ("a",)

        def __getnewargs__(self) -> tuple[Any, ...]:
            return ()

    class Registered:
        __slots__ = ("a",)

    class Hooked(Plain):
        __slots__ = ()

        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            return self

    copyreg.pickle(Registered, lambda obj: (Registered, ()))
    try:
        assert _copyable(Plain)
        assert not any(_copyable(cls) for cls in (Private, NewArgs, Registered, Hooked, type("Open", (Plain,), {})))
    finally:
        copyreg.dispatch_table.pop(Registered, None)


def test_the_comparison_sees_two_objects_made_one() -> None:
    """The check above is no weaker than it says: a copy that makes two distinct fields' infos
    one object (or shares an object the ordinary copy copied) is told apart."""
    from pydantic.v1 import BaseModel

    class Two(BaseModel):  # equal fields: only the aliasing tells the copies apart
        a: int = 1
        b: int = 1

    fields = Two.__fields__
    slow = copy.deepcopy(fields)
    collapsed = copy.deepcopy(fields)
    collapsed["b"].field_info = collapsed["a"].field_info
    with pytest.raises(AssertionError):
        _same(slow, collapsed, fields, {}, {})
    shared = copy.deepcopy(fields)
    shared["a"].field_info = fields["a"].field_info
    with pytest.raises(AssertionError):
        _same(slow, shared, fields, {}, {})
    _same(slow, copy.deepcopy(fields), fields, {}, {})


def test_a_model_built_under_it_behaves_as_one_built_without() -> None:
    """A subclass's validator must not leak into its base (pydantic mutates the copied field's
    ``class_validators``): the copies are independent."""
    from pydantic.v1 import BaseModel, ValidationError, validator

    with faster_field_copies():
        class Base(BaseModel):
            names: list[str] = []

        class Strict(Base):
            @validator("names")
            def short(cls, value: list[str]) -> list[str]:
                if any(len(v) > 3 for v in value):
                    raise ValueError("too long")
                return value

    assert Base(names=["long name"]).names == ["long name"]
    with pytest.raises(ValidationError):
        Strict(names=["long name"])
    assert Base().names == [] and Base().names is not Base().names
    assert "short" in Strict.__fields__["names"].class_validators
    assert "short" not in Base.__fields__["names"].class_validators


def test_great_expectations_loads_without_the_slow_copies_or_collections() -> None:
    """In a fresh interpreter: while GX loads (``_gx``), no pydantic v1 field object goes through
    ``copy._reconstruct`` (the ordinary, slow path) and the cycle collector never runs while GX's
    modules are being imported; it is on again afterwards, GX's objects are frozen out of later
    collections, and what the caller held is freed once the caller returns (a freeze without a
    collection before it pinned the caller's frame and locals through the load's garbage: found
    in review). Fails if ``_gx`` stops using the copier, the pause or the freeze, or pins the
    caller's state."""
    code = """
import copy, gc, sys, weakref
from pydantic.v1.fields import FieldInfo, ModelField
slow = []
plain = copy._reconstruct
def watched(x, memo, *args, **kwargs):
    if type(x) in (ModelField, FieldInfo) and memo is not None:  # a deep copy (copy.copy passes None)
        slow.append(type(x).__name__)
    return plain(x, memo, *args, **kwargs)
copy._reconstruct = watched
during = []
def loading():
    module = sys.modules.get("great_expectations")
    return module is not None and getattr(module.__spec__, "_initializing", False)
gc.callbacks.append(lambda phase, info: during.append(info) if phase == "start" and loading() else None)
from regflows.credit.quality import _gx
class Held:
    pass
held = []
def first_validation():
    mine = Held()
    held.append(weakref.ref(mine))
    return _gx()
gx = first_validation()
gc.collect()
print(len(slow), len(during), gc.isenabled(), gc.get_freeze_count() > 100_000, held[0]() is None, gx.ExpectationSuite.__name__)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "0 0 True True True ExpectationSuite"
