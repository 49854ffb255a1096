"""`record`: a frozen dataclass that is cheap to define.

`@dataclass(frozen=True)` writes and compiles six methods per class when the module is
imported (about 0.4 ms a class); pipegen defines some sixty such classes on the way to
`generate`, which was a sixth of the command's time. `record` gives the same behaviour
(keyword or positional construction, defaults and default factories, repr, equality,
hashing, immutability, `dataclasses.replace/fields/asdict`) with shared generic methods,
so defining a class costs next to nothing. Only plain fields are supported: no
`__post_init__`, InitVar, ClassVar, slots or ordering (use `dataclass` for those).
"""
from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T", bound=type)
_MISSING = dataclasses.MISSING
_COMPILE_AFTER = 100  # records of one class made with the generic __init__ before it compiles its own


def record(cls: T) -> T:
    """Turn `cls` (annotated fields, optional defaults) into a frozen dataclass-like record."""
    fields: dict[str, dataclasses.Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(getattr(base, "__dataclass_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        value = cls.__dict__.get(name, _MISSING)
        # pylint: disable-next=invalid-field-call  # a Field for dataclasses.fields() and replace()
        spec = value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)
        spec.name, spec.type = name, annotation
        spec._field_type = dataclasses._FIELD  # pylint: disable=protected-access  # what fields() selects
        fields[name] = spec
        if isinstance(value, dataclasses.Field):
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
    names = tuple(fields)
    compared = tuple(name for name, spec in fields.items() if spec.compare)
    shown = tuple(name for name, spec in fields.items() if spec.repr)
    defaults = {name: spec.default for name, spec in fields.items() if spec.default is not _MISSING}
    factories = {name: spec.default_factory for name, spec in fields.items()
                 if spec.default_factory is not _MISSING}
    qualname = cls.__qualname__
    generic_init = _generic_init(qualname, names, defaults, factories)

    made = [0]

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pylint: disable=invalid-name
        # A class that makes many records compiles its own __init__ (see _compiled_init); compiling
        # costs about as much as a few hundred generic calls, so classes that make few never do.
        made[0] += 1
        if made[0] == _COMPILE_AFTER:
            setattr(cls, "__init__", _compiled_init(qualname, names, defaults, factories) or generic_init)
        generic_init(self, *args, **kwargs)

    def __repr__(self) -> str:  # pylint: disable=invalid-name
        return f"{qualname}({', '.join(f'{name}={getattr(self, name)!r}' for name in shown)})"

    def __eq__(self, other: object) -> bool:  # pylint: disable=invalid-name
        if other.__class__ is not self.__class__:
            return NotImplemented
        # Tuples, as dataclasses compare: an element identical to itself is equal (NaN too).
        return tuple(getattr(self, name) for name in compared) == tuple(getattr(other, name) for name in compared)

    def __hash__(self) -> int:  # pylint: disable=invalid-name
        return hash(tuple(getattr(self, name) for name in compared))

    def __setattr__(self, name: str, value: Any) -> None:  # pylint: disable=invalid-name
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:  # pylint: disable=invalid-name
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    for method in (__init__, __repr__, __eq__, __hash__, __setattr__, __delattr__):
        method.__qualname__ = f"{qualname}.{method.__name__}"
        setattr(cls, method.__name__, method)
    cls.__dataclass_fields__ = fields
    cls.__record_fields__ = names
    cls.__record_field_set__ = frozenset(names)
    cls.__match_args__ = names
    return cls


def _generic_init(qualname: str, names: tuple[str, ...], defaults: dict[str, Any],
                  factories: dict[str, Any]) -> Any:
    """An __init__ for any order of fields, checking its arguments itself."""
    known = frozenset(names)
    count = len(names)

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pylint: disable=invalid-name
        # kwargs is this call's own dict: the positional values join it.
        if args:
            if len(args) > count:
                raise TypeError(f"{qualname}() takes {count} positional arguments but {len(args)} were given")
            for name, value in zip(names, args):
                if name in kwargs:
                    raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
                kwargs[name] = value
        if not known.issuperset(kwargs):
            unexpected = next(key for key in kwargs if key not in known)
            raise TypeError(f"{qualname}() got an unexpected keyword argument {unexpected!r}")
        if len(kwargs) < count:
            values = {**defaults, **kwargs}
            for name, factory in factories.items():
                if name not in values:
                    values[name] = factory()
            if len(values) < count:
                missing = next(name for name in names if name not in values)
                raise TypeError(f"{qualname}() missing required argument: {missing!r}")
            kwargs = values
        self.__dict__.update(kwargs)

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def _compiled_init(qualname: str, names: tuple[str, ...], defaults: dict[str, Any],
                   factories: dict[str, Any]) -> Any:
    """An __init__ written for one class's fields, as dataclasses writes it: Python's own call
    checks its arguments, which costs about half of the generic __init__ (a large plan makes
    tens of thousands of records). None when a field without a default follows one with a
    default (only the generic __init__ takes those)."""
    defaulted = [name in defaults or name in factories for name in names]
    if defaulted != sorted(defaulted):  # a default, then a field without one
        return None
    namespace: dict[str, Any] = {"__record_missing__": _MISSING}
    parameters, lines = [], []
    for index, name in enumerate(names):
        if name in defaults:
            namespace[f"__record_default_{index}__"] = defaults[name]
            parameters.append(f"{name}=__record_default_{index}__")
        elif name in factories:
            namespace[f"__record_factory_{index}__"] = factories[name]
            parameters.append(f"{name}=__record_missing__")
            lines.append(f"    if {name} is __record_missing__:\n        {name} = __record_factory_{index}__()")
        else:
            parameters.append(name)
    fields = ", ".join(f"{name!r}: {name}" for name in names)
    source = (f"def __init__(__record_self__, {', '.join(parameters)}):\n" + "".join(line + "\n" for line in lines)
              + f"    __record_self__.__dict__.update({{{fields}}})\n")
    exec(source, namespace)  # pylint: disable=exec-used  # text built from the class's own field names
    function = namespace["__init__"]
    function.__qualname__ = f"{qualname}.__init__"
    return function


def replace(obj: Any, /, **changes: Any) -> Any:
    """`dataclasses.replace`, without its per-call field scan for records (plans and
    views are rebuilt a few times per job); other dataclasses go to dataclasses.replace."""
    names = getattr(type(obj), "__record_fields__", None)
    if names is None:
        return dataclasses.replace(obj, **changes)
    values = obj.__dict__.copy()
    if len(values) != len(names):  # cached properties are not carried over: they belong to the old values
        for name in values.keys() - type(obj).__record_field_set__:
            del values[name]
    if not values.keys() >= changes.keys():
        unexpected = next(key for key in changes if key not in values)
        raise TypeError(f"{type(obj).__qualname__}.__init__() got an unexpected keyword argument {unexpected!r}")
    values.update(changes)
    new = object.__new__(type(obj))
    new.__dict__.update(values)
    return new
