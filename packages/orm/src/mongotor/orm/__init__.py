"""mongotor.orm: Collection models, fields, managers, querysets and signals.

::

    from mongotor.database import Database
    from mongotor.orm import Collection, field
    from mongotor.orm.signal import pre_save, receiver

    class User(Collection):
        __collection__ = "user"
        _id = field.ObjectIdField()
        name = field.StringField(required=True)
        age = field.IntegerField(min_value=0)

    Database.connect(["localhost:27017"], "app")
    user = User(name="ana", age=30)
    await user.save()
    adults = await User.objects.filter(User.age >= 18).sort("name").limit(20)

Built on :mod:`mongotor.client`; the models use the default
:class:`~mongotor.database.Database`. See the package README for the whole
tour, and which operation sends which signal.
"""

from __future__ import annotations

from . import field as field
from . import signal as signal
from ._collection import Collection as Collection
from ._compound import EmbeddedDocument as EmbeddedDocument
from ._compound import EmbeddedField as EmbeddedField
from ._compound import ListField as ListField
from ._compound import ObjectField as ObjectField
from ._document import BaseDocument as BaseDocument
from ._field import Field as Field
from ._indexes import Index as Index
from ._manager import Manager as Manager
from ._numbers import DecimalField as DecimalField
from ._numbers import FloatField as FloatField
from ._numbers import IntegerField as IntegerField
from ._numbers import LongField as LongField
from ._query import FieldPath as FieldPath
from ._query import Q as Q
from ._query import SortKey as SortKey
from ._queryset import QuerySet as QuerySet
from ._reference import ReferenceField as ReferenceField
from ._reference import VersionField as VersionField
from ._scalars import BooleanField as BooleanField
from ._scalars import DateTimeField as DateTimeField
from ._scalars import ObjectIdField as ObjectIdField
from ._scalars import UuidField as UuidField
from ._strings import EmailField as EmailField
from ._strings import Md5Field as Md5Field
from ._strings import Sha1Field as Sha1Field
from ._strings import StringField as StringField
from ._strings import UrlField as UrlField
from .errors import ConcurrentModificationError as ConcurrentModificationError
from .errors import DocumentNotFoundError as DocumentNotFoundError
from .errors import FieldNotLoadedError as FieldNotLoadedError
from .errors import ReferenceNotLoadedError as ReferenceNotLoadedError
from .errors import ValidationError as ValidationError

__all__ = [
    "BaseDocument",
    "BooleanField",
    "Collection",
    "ConcurrentModificationError",
    "DateTimeField",
    "DecimalField",
    "DocumentNotFoundError",
    "EmailField",
    "EmbeddedDocument",
    "EmbeddedField",
    "Field",
    "FieldNotLoadedError",
    "FieldPath",
    "FloatField",
    "Index",
    "IntegerField",
    "ListField",
    "LongField",
    "Manager",
    "Md5Field",
    "ObjectField",
    "ObjectIdField",
    "Q",
    "QuerySet",
    "ReferenceField",
    "ReferenceNotLoadedError",
    "Sha1Field",
    "SortKey",
    "StringField",
    "UrlField",
    "UuidField",
    "ValidationError",
    "VersionField",
    "field",
    "signal",
]
