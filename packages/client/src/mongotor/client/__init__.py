"""mongotor.client: the Client (collection) API, cursors, bulk writes and results.

``Database`` (also at :mod:`mongotor.database`, the 2012 import path) is the
entry point; ``db.users`` is a :class:`Client`, with the modern CRUD API
(PyMongo 4 names) and the 2012 library's methods. Every operation goes through
an :class:`Executor`; :class:`TopologyExecutor` is the real one, over
:class:`mongotor.pool.Topology`.
"""

from __future__ import annotations

from mongotor.pool import ReadPreference as ReadPreference
from mongotor.pool import ReadPreferenceMode as ReadPreferenceMode

from ._admin import IndexModel as IndexModel
from ._client import Client as Client
from ._collection import ReturnDocument as ReturnDocument
from ._concerns import ACKNOWLEDGED as ACKNOWLEDGED
from ._concerns import UNACKNOWLEDGED as UNACKNOWLEDGED
from ._concerns import CollectionOptions as CollectionOptions
from ._concerns import ReadConcern as ReadConcern
from ._concerns import WriteConcern as WriteConcern
from ._cursor import CommandCursor as CommandCursor
from ._database import Database as Database
from ._executor import DEFAULT_LIMITS as DEFAULT_LIMITS
from ._executor import Executor as Executor
from ._executor import OperationKind as OperationKind
from ._executor import Reply as Reply
from ._executor import Request as Request
from ._executor import ServerLimits as ServerLimits
from ._find import Cursor as Cursor
from ._monitoring import CommandEvent as CommandEvent
from ._monitoring import CommandFailedEvent as CommandFailedEvent
from ._monitoring import CommandListener as CommandListener
from ._monitoring import CommandStartedEvent as CommandStartedEvent
from ._monitoring import CommandSucceededEvent as CommandSucceededEvent
from ._results import BulkWriteResult as BulkWriteResult
from ._results import DeleteResult as DeleteResult
from ._results import InsertManyResult as InsertManyResult
from ._results import InsertOneResult as InsertOneResult
from ._results import UpdateResult as UpdateResult
from ._sessions import ImplicitSession as ImplicitSession
from ._specs import ASCENDING as ASCENDING
from ._specs import DESCENDING as DESCENDING
from ._topology_executor import ExecutorStatistics as ExecutorStatistics
from ._topology_executor import TopologyExecutor as TopologyExecutor
from ._write_models import DeleteMany as DeleteMany
from ._write_models import DeleteOne as DeleteOne
from ._write_models import InsertOne as InsertOne
from ._write_models import ReplaceOne as ReplaceOne
from ._write_models import UpdateMany as UpdateMany
from ._write_models import UpdateOne as UpdateOne
from ._write_models import WriteModel as WriteModel

__all__ = [
    "ACKNOWLEDGED",
    "ASCENDING",
    "DEFAULT_LIMITS",
    "DESCENDING",
    "UNACKNOWLEDGED",
    "BulkWriteResult",
    "Client",
    "CollectionOptions",
    "CommandCursor",
    "CommandEvent",
    "CommandFailedEvent",
    "CommandListener",
    "CommandStartedEvent",
    "CommandSucceededEvent",
    "Cursor",
    "Database",
    "DeleteMany",
    "DeleteOne",
    "DeleteResult",
    "Executor",
    "ExecutorStatistics",
    "ImplicitSession",
    "IndexModel",
    "InsertManyResult",
    "InsertOne",
    "InsertOneResult",
    "OperationKind",
    "ReadConcern",
    "ReadPreference",
    "ReadPreferenceMode",
    "ReplaceOne",
    "Reply",
    "Request",
    "ReturnDocument",
    "ServerLimits",
    "TopologyExecutor",
    "UpdateMany",
    "UpdateOne",
    "UpdateResult",
    "WriteConcern",
    "WriteModel",
]
