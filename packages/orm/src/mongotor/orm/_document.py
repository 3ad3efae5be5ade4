"""BaseDocument: what models and embedded documents share.

A document keeps its values by stored name in ``_data``. A new document (made
by its constructor) holds Python values only (``_touched is None``). A loaded
one holds what the database returned, each value converted (and, when mutable,
copied) the first time it is read; ``_touched`` names the keys whose values are
in their Python form. Loading is a dict copy: nothing is converted or validated
until it is read, which is why reading a result set costs so little. A new
document none of whose values is None (``_fresh``: every assignment of None
clears it) is written without looking for values to leave out.

Inheritance with a stored type tag: a model that sets ``__polymorphic__ =
True`` stores ``{"_cls": "<class name>"}`` (``__type_key__``,
``__type_name__``) in every document of it and its subclasses, and loading a
document makes an instance of the class its tag names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from bson import json_util

from ._errors import FieldNotLoadedError, ValidationError
from ._field import Field, Invalid
from ._init import make_init
from ._values import copy_value
from ._write import make_write

__all__ = ["BaseDocument", "model_named"]

# Every model and embedded document class by name, for references given by name.
_REGISTRY: dict[str, type[BaseDocument]] = {}


def model_named(name: str) -> type[BaseDocument]:
    """The model class called ``name`` (the last one defined); ``LookupError`` if none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no model named {name!r} is defined") from None


class BaseDocument:
    """Fields, validation, conversion and the type tag; see :class:`~mongotor.orm.Collection`
    (a model stored in a collection) and :class:`~mongotor.orm.EmbeddedDocument`.

    ``Model(**values)`` makes a new document, validating every value given (all
    errors at once, in one :class:`~mongotor.orm.ValidationError`); names that
    are not fields are errors too. Fields with a default get it.
    """

    __slots__ = ("_data", "_fresh", "_loaded", "_raw", "_refs", "_touched")

    #: Opt in to inheritance with a stored type tag (set on the root model).
    __polymorphic__: ClassVar[bool] = False
    #: The stored field holding the type tag.
    __type_key__: ClassVar[str] = "_cls"

    # The schema, worked out once per class (``_collect_fields``).
    _fields: ClassVar[tuple[Field[Any], ...]] = ()
    _by_attname: ClassVar[dict[str, Field[Any]]] = {}
    _by_key: ClassVar[dict[str, Field[Any]]] = {}
    _constant_defaults: ClassVar[dict[str, Any]] = {}
    _made_defaults: ClassVar[tuple[Field[Any], ...]] = ()
    _mutable_fields: ClassVar[tuple[Field[Any], ...]] = ()
    _required_fields: ClassVar[tuple[Field[Any], ...]] = ()
    _converted: ClassVar[tuple[tuple[str, Field[Any]], ...]] = ()
    _required_keys: ClassVar[tuple[str, ...]] = ()
    _write_plan: ClassVar[tuple[tuple[str, Callable[[Any], Any]], ...]] = ()
    _type_root: ClassVar[type[BaseDocument] | None] = None
    _types: ClassVar[dict[str, type[BaseDocument]]] = {}
    _type_name: ClassVar[str] = ""

    if TYPE_CHECKING:
        _data: dict[str, Any]
        _touched: set[str] | None
        _raw: dict[str, Any] | None
        _loaded: frozenset[str] | None
        _refs: dict[str, Any] | None
        _fresh: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._collect_fields()
        if cls.__dict__.get("__polymorphic__"):
            cls._type_root = cls
            cls._types = {}
        if cls._type_root is not None:
            cls._register_type(cls._type_root)
        cls._generate()  # after the type tag: generated writes store it as a constant
        _REGISTRY[cls.__name__] = cls

    @classmethod
    def _collect_fields(cls) -> None:
        fields: dict[str, Field[Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Field):
                    fields[name] = value
                elif name in fields:  # a subclass hid an inherited field (``name = None``)
                    del fields[name]
        if "_id" in fields:  # first, as MongoDB stores it
            fields = {"_id": fields.pop("_id"), **fields}
        by_key: dict[str, Field[Any]] = {}
        for field in fields.values():
            other = by_key.setdefault(field.key, field)
            if other is not field:
                raise TypeError(
                    f"{cls.__name__}.{other.attname} and {cls.__name__}.{field.attname} "
                    f"are both stored as {field.key!r}"
                )
        cls._fields = tuple(fields.values())
        cls._by_attname = fields
        cls._by_key = by_key
        constants: dict[str, Any] = {}
        for field in cls._fields:
            if field.default is not None and not callable(field.default) and not field.mutable:
                try:
                    constants[field.key] = field.make_default()
                except Invalid as exc:
                    raise TypeError(
                        f"the default of {cls.__name__}.{field.attname} is invalid: {exc.errors}"
                    ) from None
        cls._constant_defaults = constants
        cls._made_defaults = tuple(
            field
            for field in cls._fields
            if field.default is not None and field.key not in constants
        )
        cls._mutable_fields = tuple(field for field in cls._fields if field.mutable)
        cls._required_fields = tuple(field for field in cls._fields if field.required)
        cls._converted = tuple(
            (field.key, field) for field in cls._fields if not field.stores_as_is
        )
        cls._required_keys = tuple(field.key for field in cls._required_fields)
        writers = ((field.key, field.writer()) for field in cls._fields)
        cls._write_plan = tuple((key, write) for key, write in writers if write is not None)

    @classmethod
    def _generate(cls) -> None:
        """The class's generated write of a new document and constructor."""
        cls._write_new = make_write(cls)  # type: ignore[method-assign,assignment]
        # A generated constructor, unless the class or a base has one of its own.
        inits = (
            klass.__dict__["__init__"] for klass in cls.__mro__ if "__init__" in klass.__dict__
        )
        nearest = next(inits)
        if nearest is BaseDocument._init_generic or getattr(
            nearest, "__mongotor_generated__", False
        ):
            generated = make_init(cls)
            if generated is not None:
                cls.__init__ = generated  # type: ignore[method-assign]

    @classmethod
    def _register_type(cls, root: type[BaseDocument]) -> None:
        if root.__type_key__ in cls._by_key:
            raise TypeError(
                f"{cls.__name__} has a field stored as its type tag {root.__type_key__!r}"
            )
        name = cls.__dict__.get("__type_name__", cls.__name__)
        known = root._types.setdefault(name, cls)
        if known is not cls:
            raise TypeError(f"{cls.__name__} and {known.__name__} both have the type tag {name!r}")
        cls._type_name = name

    @classmethod
    def _class_for(cls, document: Mapping[str, Any]) -> type[Self]:
        """The class a stored document's type tag names (``cls`` without a tag,
        or for a tag no class has)."""
        root = cls._type_root
        assert root is not None  # only called for polymorphic models
        tag = document.get(root.__type_key__)
        found = root._types.get(tag) if isinstance(tag, str) else None
        if found is None or found is cls:
            return cls
        if not issubclass(found, cls):
            raise TypeError(
                f"the document is a {found.__name__} (type tag {tag!r}), not a {cls.__name__}"
            )
        return found

    @classmethod
    def _subtype_names(cls) -> list[str]:
        """The type tags of this class and its subclasses."""
        return [name for name, klass in cls._types.items() if issubclass(klass, cls)]

    # -- making documents --------------------------------------------------------------------------

    def __init__(self, **values: Any) -> None:
        """A new document: every value is validated (all errors at once, in one
        :class:`~mongotor.orm.ValidationError`, names that are not fields too);
        fields with a default and no value get it."""
        self._touched = None
        self._raw = None
        self._loaded = None
        self._refs = None
        self._fresh = False  # until every value is in
        data = self._constant_defaults.copy()
        self._data = data
        errors: dict[str, str] | None = None
        fields = self._by_attname
        for name, value in values.items():
            field = fields.get(name)
            if field is not None and type(value) is field.trivial:
                data[field.key] = value
                continue
            if errors is None:
                errors = {}
            if field is None:
                errors[name] = f"{type(self).__name__} has no such field"
            elif field.assigns_itself:
                try:
                    field.__set__(self, value)
                except ValidationError as exc:
                    errors.update(exc.errors)
            else:
                try:
                    data[field.key] = field.validate(value)
                except Invalid as exc:
                    errors.update(exc.under(name))
        for field in self._made_defaults:
            if field.key not in data:
                try:
                    data[field.key] = field.make_default()
                except Invalid as exc:
                    if errors is None:
                        errors = {}
                    errors.update(exc.under(field.attname))
        if errors:
            raise ValidationError(errors, model=type(self).__name__)
        self._fresh = None not in data.values()

    # What generated constructors fall back to (and are measured against).
    _init_generic = __init__

    @classmethod
    def from_mongo(cls, document: Mapping[str, Any]) -> Self:
        """The document as stored (a decoded BSON document), loaded without
        validation, as queries load results. It is not new: saving it updates
        what changed. ``document`` is taken over; do not change it afterwards."""
        klass = cls if cls._type_root is None else cls._class_for(document)
        instance = object.__new__(klass)
        raw = document if type(document) is dict else dict(document)
        instance._raw = raw
        instance._data = raw.copy()
        instance._touched = set()
        instance._loaded = None
        instance._refs = None
        instance._fresh = False
        return instance

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """A new document from attribute names and Python values, each validated
        (the constructor, for a mapping)."""
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A new document from :meth:`to_json`'s form (MongoDB Extended JSON of the
        stored document), every field converted and validated."""
        stored = json_util.loads(text)
        if not isinstance(stored, dict):
            raise ValidationError({"": "the JSON is not an object"}, model=cls.__name__)
        instance = cls.from_mongo(stored)
        for key, value in instance._data.items():
            field = instance._by_key.get(key)
            if field is not None and value is not None:
                instance._data[key] = field.to_python(value)
        instance._touched = None
        instance._raw = None
        errors = instance._problems(everything=True)
        if errors:
            raise ValidationError(errors, model=type(instance).__name__)
        return instance

    # -- reading and writing fields ---------------------------------------------------------------

    def _missing(self, field: Field[Any]) -> Any:
        """What reading a field the document does not hold gives: its default
        (kept, so it is written by the next save), or ``None``."""
        loaded = self._loaded
        if loaded is not None and field.key not in loaded:
            raise FieldNotLoadedError(type(self).__name__, field.attname)
        if field.default is None:
            return None
        try:
            value = field.make_default()
        except Invalid as exc:
            raise ValidationError(exc.under(field.attname), model=type(self).__name__) from None
        self._assign(field.key, value)
        return value

    def _assign(self, key: str, value: Any) -> None:
        self._data[key] = value
        if value is None:
            self._fresh = False
        touched = self._touched
        if touched is not None:
            touched.add(key)

    def _python(self, field: Field[Any]) -> Any:
        """The field's value in its Python form, without defaults (``None`` if absent)."""
        key = field.key
        value = self._data.get(key)
        touched = self._touched
        if value is not None and field.converts and touched is not None and key not in touched:
            value = field.to_python(value)
            self._data[key] = value
            touched.add(key)
        return value

    # -- the stored form -----------------------------------------------------------------------------

    def _dump(self) -> dict[str, Any]:
        """The document as stored: declared fields in their stored form (absent
        when None), the keys the model does not declare as they were loaded, and
        the type tag. Untouched stored values are shared, not copied."""
        touched = self._touched
        if touched is None:  # every value is in its Python form
            out = self._data.copy()
            if None in out.values():  # fields set to None are not stored
                out = {key: value for key, value in out.items() if value is not None}
            for key, converted in self._converted:
                if key in out:
                    out[key] = converted.to_mongo(out[key])
        else:
            out = {}
            by_key = self._by_key
            for key, value in self._data.items():
                field = by_key.get(key)
                if field is None or key not in touched:
                    out[key] = value
                elif value is None:
                    continue
                elif field.stores_as_is:
                    out[key] = value
                else:
                    out[key] = field.to_mongo(value)
        root = self._type_root
        if root is not None:
            out[root.__type_key__] = self._type_name
        return out

    def _write_new(self) -> dict[str, Any] | None:
        """What :meth:`_dump` gives for a new document that passes the checks
        before a write (:meth:`_problems`), in one pass over its class's write
        plan; ``None`` when it is not new, does not pass, or the plan cannot tell
        (then the full check and :meth:`_dump` decide, and report every error).
        Each class has this compiled (``_write.make_write``); this is what the
        compiled one does, and what it is checked against."""
        if self._touched is not None:
            return None
        data = self._data
        for key in self._required_keys:
            if data.get(key) is None:
                return None
        out = data.copy()
        if None in out.values():  # fields set to None are not stored
            out = {key: value for key, value in out.items() if value is not None}
        for key, write in self._write_plan:
            value = out.get(key)
            if value is not None:
                value = write(value)
                if value is None:
                    return None
                out[key] = value
        root = self._type_root
        if root is not None:
            out[root.__type_key__] = self._type_name
        return out

    def to_mongo(self) -> dict[str, Any]:
        """The document as it is stored (what an insert sends), as a new dict
        sharing nothing mutable with the document."""
        return copy_value(self._dump())  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The stored form as MongoDB (relaxed) Extended JSON; :meth:`from_json`
        reads it back."""
        return json_util.dumps(self._dump(), json_options=json_util.RELAXED_JSON_OPTIONS)

    def to_dict(self, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """The fields that have a value, by attribute name, in their Python form
        (embedded documents as dicts, references as their ``_id``), sharing
        nothing mutable with the document. ``fields`` names the ones wanted.
        Fields a query left out are left out."""
        wanted = None if fields is None else set(fields)
        out: dict[str, Any] = {}
        loaded = self._loaded
        for field in self._fields:
            if wanted is not None and field.attname not in wanted:
                continue
            if loaded is not None and field.key not in loaded and field.key not in self._data:
                continue
            value = self._python(field)
            if value is not None:
                out[field.attname] = field.to_plain(value)
        return out

    def as_dict(self, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """The 2012 name of :meth:`to_dict`."""
        return self.to_dict(fields)

    def to_plain(self) -> dict[str, Any]:
        """:meth:`to_dict` of every field (what an embedded document is inside one)."""
        return self.to_dict()

    # -- validation ------------------------------------------------------------------------------------

    def _problems(self, *, everything: bool) -> dict[str, str]:
        """Every field error, before a write: the values that may have changed in
        place since they were validated (lists, dicts, embedded documents, deep),
        or with ``everything`` every value, stored ones included; and required
        fields without a value (of a new document, or with ``everything``)."""
        errors: dict[str, str] = {}
        data = self._data
        touched = self._touched
        if not everything:
            # Other values were validated when assigned, and cannot change in place.
            for field in self._mutable_fields:
                key = field.key
                if key in data and (touched is None or key in touched):
                    try:
                        field.validate(data[key], deep=True)
                    except Invalid as exc:
                        errors.update(exc.under(field.attname))
            if touched is None:
                for field in self._required_fields:
                    if field.key not in data:
                        errors[field.attname] = "required"
            return errors
        loaded = self._loaded
        for field in self._fields:
            key = field.key
            if key in data:
                value = data[key]
                if value is not None and touched is not None and key not in touched:
                    value = field.to_python(value)  # stored: checked, not kept converted
                try:
                    field.validate(value, deep=True)
                except Invalid as exc:
                    errors.update(exc.under(field.attname))
            elif field.required and (loaded is None or key in loaded):
                errors[field.attname] = "required"
        return errors

    def validate(self) -> None:
        """Check every field as a write would (an insert's rules: every field),
        raising :class:`~mongotor.orm.ValidationError` with all the errors."""
        errors = self._problems(everything=True)
        if errors:
            raise ValidationError(errors, model=type(self).__name__)

    # -- paths ------------------------------------------------------------------------------------------

    @classmethod
    def _stored_path(cls, path: str) -> str:
        """A dotted path of attribute names (``address.city``; list indexes
        allowed) as stored names. Parts that are not fields are kept as given."""
        model: type[BaseDocument] | None = cls
        parts = []
        for part in path.split("."):
            field = model._by_attname.get(part) if model is not None else None
            if field is None:
                parts.append(part)
                if not part.isdigit():
                    model = None
            else:
                parts.append(field.key)
                model = field.embedded_model()
        return ".".join(parts)

    def __repr__(self) -> str:
        by_key = self._by_key
        shown = ", ".join(
            f"{by_key[key].attname if key in by_key else key}={value!r}"
            for key, value in self._data.items()
        )
        return f"{type(self).__name__}({shown})"


def _stored_key(self: BaseDocument, name: str) -> Any:
    """Stored keys that are not fields read as attributes, as in the 2012 library."""
    if name.startswith("__") or name in BaseDocument.__slots__:
        raise AttributeError(name)
    try:
        return self._data[name]
    except KeyError:
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute or stored key {name!r}"
        ) from None


# Set after the class body so that type checkers do not see it: to them, a typo
# in an attribute name stays an error.
setattr(BaseDocument, "__getattr__", _stored_key)  # noqa: B010
