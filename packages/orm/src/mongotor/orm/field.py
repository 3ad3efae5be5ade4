"""mongotor.orm.field: the field classes (the 2012 import path).

``from mongotor.orm.field import StringField`` and ``from mongotor.orm import
field; field.StringField()`` both work; so does ``from mongotor.orm import
StringField``.
"""

from __future__ import annotations

# The 2012 module exposed ObjectId too (its tests imported it from here).
from bson import ObjectId as ObjectId

from ._compound import EmbeddedField as EmbeddedField
from ._compound import ListField as ListField
from ._compound import ObjectField as ObjectField
from ._field import Field as Field
from ._field import FieldOptions as FieldOptions
from ._numbers import DecimalField as DecimalField
from ._numbers import FloatField as FloatField
from ._numbers import IntegerField as IntegerField
from ._numbers import LongField as LongField
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

__all__ = [
    "BooleanField",
    "DateTimeField",
    "DecimalField",
    "EmailField",
    "EmbeddedField",
    "Field",
    "FieldOptions",
    "FloatField",
    "IntegerField",
    "ListField",
    "LongField",
    "Md5Field",
    "ObjectField",
    "ObjectId",
    "ObjectIdField",
    "ReferenceField",
    "Sha1Field",
    "StringField",
    "UrlField",
    "UuidField",
    "VersionField",
]
