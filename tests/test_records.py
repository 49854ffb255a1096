"""`record` behaves as `dataclass(frozen=True)` for everything pipegen uses."""
from __future__ import annotations

import dataclasses
import math

import pytest

from functools import cached_property

from pipegen.records import record, replace


@record
class Point:
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)


@record
class Cached:
    x: int

    @cached_property
    def double(self) -> int:
        return self.x * 2


@dataclasses.dataclass(frozen=True)
class Reference:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)


def test_construction_defaults_and_factories() -> None:
    point = Point(1, tags=("a",))
    assert (point.x, point.y, point.tags, point.notes) == (1, 0, ("a",), {})
    assert Point(1).notes is not Point(1).notes  # a fresh default per instance


def test_repr_equality_and_hash_as_a_frozen_dataclass() -> None:
    assert repr(Point(1, 2, ("a",), {"n": 1})) == repr(Reference(1, 2, ("a",), {"n": 1})).replace("Reference", "Point")
    assert Point(1, 2, notes={"a": 1}) == Point(1, 2, notes={"b": 2})  # notes are not compared
    assert Point(1) != Point(2) and Point(1) != Reference(1)
    assert hash(Point(1, 2)) == hash(Point(1, 2, notes={"x": 1}))
    assert {Point(1), Point(1)} == {Point(1)}


def test_identical_fields_compare_equal_like_tuples() -> None:
    nan = math.nan
    assert Point(nan) == Point(nan)  # the same object: equal, as in a dataclass
    assert Reference(nan) == Reference(nan)


def test_frozen() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x


def test_dataclasses_functions_work() -> None:
    point = Point(1, 2)
    assert dataclasses.is_dataclass(point)
    assert [field.name for field in dataclasses.fields(point)] == ["x", "y", "tags", "notes"]
    assert dataclasses.replace(point, y=5) == Point(1, 5)
    assert dataclasses.asdict(point) == {"x": 1, "y": 2, "tags": (), "notes": {}}


def _fresh_point_class() -> type:
    @record
    class FreshPoint:
        x: int
        y: int = 0
        tags: tuple[str, ...] = ()
        notes: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    return FreshPoint


@pytest.mark.parametrize(("args", "kwargs", "generic", "compiled"), [
    ((), {}, "missing required argument: 'x'", "missing 1 required positional argument: 'x'"),
    ((1, 2, 3, 4, 5), {}, "takes 4 positional arguments but 5 were given",
     "positional arguments but 6 were given"),  # Python's own message counts self
    ((1,), {"x": 2}, "multiple values for argument 'x'", "multiple values for argument 'x'"),
    ((1,), {"z": 2}, "unexpected keyword argument 'z'", "unexpected keyword argument 'z'"),
])
def test_wrong_arguments_are_type_errors(args, kwargs, generic, compiled) -> None:
    """Both before a class compiles its own __init__ (its first hundred records) and after."""
    point = _fresh_point_class()
    with pytest.raises(TypeError, match=generic):
        point(*args, **kwargs)
    for index in range(100):
        point(index)
    with pytest.raises(TypeError, match=compiled):
        point(*args, **kwargs)


def test_replace_changes_fields_and_drops_cached_properties() -> None:
    point = Point(1, 2, ("a",), {"n": 1})
    moved = replace(point, y=5)
    assert (moved.x, moved.y, moved.tags, moved.notes) == (1, 5, ("a",), {"n": 1}) and point.y == 2
    assert moved == dataclasses.replace(point, y=5)
    cached = Cached(2)
    assert cached.double == 4
    assert replace(cached, x=5).double == 10  # computed again for the new values
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        replace(point, z=1)


def test_replace_of_a_dataclass_is_dataclasses_replace() -> None:
    assert replace(Reference(1), tags=("b",)) == Reference(1, 0, ("b",))
    with pytest.raises(TypeError):
        replace(Reference(1), z=1)


def test_keyword_and_positional_arguments_mix_as_in_a_dataclass() -> None:
    assert Point(1, tags=("a",), y=3) == Point(x=1, y=3, tags=("a",))
    assert Point(x=1, y=2, tags=(), notes={}).notes == {}


@record
class DefaultFirst:
    """Every field has a default, two of them through dataclasses.field."""

    label: str = "none"
    size: int = 0
    weight: float = dataclasses.field(default=1.0)
    name: str = dataclasses.field(default_factory=str)
    count: int = 0
    required: int = 0


@record
class OddOrder:
    tags: tuple[str, ...] = ()
    x: int  # pylint: disable=invalid-name


def test_records_made_many_times_keep_their_values_defaults_and_factories() -> None:
    """A class compiles its own __init__ at its hundredth record; the ones before and after are alike."""
    point = _fresh_point_class()
    made = [point(index, tags=("t",)) for index in range(250)][98:101] + [point(x=5, y=6, notes={"a": 1})]
    assert [(point.x, point.y, point.tags, point.notes) for point in made] == [
        (98, 0, ("t",), {}), (99, 0, ("t",), {}), (100, 0, ("t",), {}), (5, 6, (), {"a": 1})]
    assert made[0].notes is not made[1].notes  # a factory per record
    made = [DefaultFirst(count=index) for index in range(150)]
    expected = [("", 98, 1.0), ("", 99, 1.0), ("", 100, 1.0)]
    assert [(each.name, each.count, each.weight) for each in made[98:101]] == expected


def test_a_field_without_default_after_one_with_keeps_the_generic_init() -> None:
    made = [OddOrder(x=index) for index in range(150)]
    assert made[120] == OddOrder((), 120) and made[120].tags == ()
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        OddOrder()
