"""The Database: the 2012 entry point (``Database.connect``), commands, collections."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Self, cast
from urllib.parse import urlencode

from mongotor.errors import ConfigurationError, InterfaceError
from mongotor.pool import (
    PRIMARY,
    ConnectionOptions,
    ReadPreference,
    ReadPreferenceMode,
    create_topology,
    from_addresses,
    parse_uri,
)

from ._client import Client
from ._concerns import (
    CollectionOptions,
    ReadConcern,
    WriteConcern,
    read_preference_from,
    write_concern_from,
)
from ._cursor import CommandCursor, DocumentT
from ._errors_from import check_reply, command_error, translate
from ._executor import Executor, OperationKind, Request
from ._names import check_collection_name, check_database_name
from ._topology_executor import TopologyExecutor

__all__ = ["Database"]

# Lower-case command names the 2012 library used, which mongod accepts as aliases
# of these: sent by their canonical names, which every server (and fakemongo) knows.
_CANONICAL_COMMANDS = {
    "buildinfo": "buildInfo",
    "collstats": "collStats",
    "dbstats": "dbStats",
    "findandmodify": "findAndModify",
}
# The 2012 library's pool keywords and the connection-string options they became.
_POOL_KEYWORDS = {"maxconnections": "maxPoolSize", "mincached": "minPoolSize"}


class _Closing:
    """What :meth:`Database.disconnect` returns: awaiting it waits for the close."""

    def __init__(self, task: asyncio.Task[None] | None) -> None:
        self.task = task

    def __await__(self) -> Generator[Any, None, None]:
        if self.task is not None:
            yield from self.task.__await__()


def _with_options(uri: str, options: Mapping[str, str | int | bool]) -> str:
    """``uri`` with ``options`` appended to its query string."""
    if not options:
        return uri
    text = {
        k: ("true" if v is True else "false" if v is False else str(v)) for k, v in options.items()
    }
    rest = uri.partition("://")[2]
    separator = "&" if "?" in rest else ("?" if "/" in rest else "/?")
    return f"{uri}{separator}{urlencode(text)}"


def _options_from(
    parsed: ConnectionOptions,
    read_preference: ReadPreference | ReadPreferenceMode | str | int | None,
    write_concern: WriteConcern | Mapping[str, Any] | None,
    read_concern: ReadConcern | None,
) -> CollectionOptions:
    preference = (
        ReadPreference.from_options(parsed)
        if read_preference is None
        else read_preference_from(read_preference)
    )
    if write_concern is None:
        concern = WriteConcern(parsed.w, parsed.w_timeout_ms, parsed.journal)
    else:
        concern = write_concern_from(write_concern)
    level = ReadConcern(parsed.read_concern_level) if read_concern is None else read_concern
    return CollectionOptions(preference, concern, level)


class Database(Generic[DocumentT]):
    """A database on a deployment (the 2012 ``mongotor.database.Database``).

    Make one with :meth:`connect` (or :meth:`init`), which also makes it the
    default that ``Database()`` returns and the ORM uses. Collections are
    ``db.users`` or ``db["users"]`` (a :class:`~mongotor.client.Client`). Nothing
    touches the network until the first operation.
    """

    _default: ClassVar[Database[Any] | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if args or kwargs:
            return super().__new__(cls)
        default = Database._default
        if default is None:
            raise InterfaceError("there is no default Database: call Database.connect(...) first")
        return cast(Self, default)

    def __init__(
        self,
        name: str | None = None,
        executor: Executor | None = None,
        *,
        options: CollectionOptions | None = None,
    ) -> None:
        if name is None and executor is None:
            return  # Database(): the default, already made
        if name is None or executor is None:
            raise TypeError("Database(name, executor) needs both (or neither, for the default)")
        self._name = check_database_name(name)
        self._executor = executor
        self._options = options if options is not None else CollectionOptions()

    # -- the 2012 entry points --------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        addresses: str | Sequence[str],
        dbname: str | None = None,
        *,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        write_concern: WriteConcern | Mapping[str, Any] | None = None,
        read_concern: ReadConcern | None = None,
        event_listeners: Iterable[Callable[[Any], None]] = (),
        **options: str | int | bool,
    ) -> Database[dict[str, Any]]:
        """Configure a connection and return its Database, now the default.

        ``addresses`` is ``"host:port"``, a list of them, or a connection string
        (``mongodb://`` / ``mongodb+srv://``, whose database is used when
        ``dbname`` is not given). ``options`` are connection-string options by
        name (``replicaSet="rs0"``, ``maxPoolSize=50``, ``w=1``...), and the 2012
        ``maxconnections`` / ``mincached`` (maxPoolSize / minPoolSize).
        ``event_listeners`` receive every event: commands, and the pool's
        server, topology, heartbeat and connection pool events.

        Nothing connects here (the first operation does). Raises
        :class:`~mongotor.errors.ConfigurationError` (:class:`~mongotor.errors.InvalidURI`)
        for a bad configuration or no database name.
        """
        named: dict[str, Any] = {_POOL_KEYWORDS.get(k, k): v for k, v in options.items()}
        listeners = list(event_listeners)
        try:
            if isinstance(addresses, str) and "://" in addresses:
                parsed = parse_uri(_with_options(addresses, named))
            else:
                parsed = from_addresses(addresses, dbname, **named)
            topology = create_topology(parsed, listeners=listeners)
        except Exception as exc:
            raise translate(exc) from exc
        name = dbname or parsed.database
        if not name:
            raise ConfigurationError("no database name: give dbname, or one in the URI")
        executor = TopologyExecutor(
            topology,
            retry_reads=parsed.retry_reads is not False,
            retry_writes=parsed.retry_writes is not False,
            listeners=listeners,
        )
        database: Database[dict[str, Any]] = Database(
            name,
            executor,
            options=_options_from(parsed, read_preference, write_concern, read_concern),
        )
        Database._default = database
        return database

    init = connect

    @classmethod
    def default(cls) -> Database[Any] | None:
        """The default Database (the last connected), or ``None``."""
        return Database._default

    @classmethod
    def disconnect(cls) -> Awaitable[None]:
        """Forget the default Database and close its connections. Await the
        result to wait until they are closed (the close runs anyway)."""
        database, Database._default = Database._default, None
        if database is None:
            return _Closing(None)
        return _Closing(asyncio.get_running_loop().create_task(database.close()))

    async def close(self) -> None:
        """Close this Database's connections (and every Client's: they share them)."""
        close = getattr(self._executor, "close", None)
        if close is not None:
            await close()
        if Database._default is self:
            Database._default = None

    # -- identity and options ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The database's name."""
        return self._name

    @property
    def executor(self) -> Executor:
        """What runs this Database's commands."""
        return self._executor

    @property
    def options(self) -> CollectionOptions:
        """The read preference, write concern and read concern its Clients start with."""
        return self._options

    def with_options(
        self,
        *,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        write_concern: WriteConcern | Mapping[str, Any] | None = None,
        read_concern: ReadConcern | None = None,
    ) -> Database[DocumentT]:
        """The same database (same connections) with other options."""
        options = self._options.replace(
            read_preference=read_preference,
            write_concern=write_concern,
            read_concern=read_concern,
        )
        return Database(self._name, self._executor, options=options)

    def statistics(self) -> Any:
        """The executor's statistics (commands, retries, sessions, the topology's
        servers and pools), or ``None`` if it keeps none."""
        statistics = getattr(self._executor, "statistics", None)
        return statistics() if statistics is not None else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Database):
            return self._executor is other._executor and self._name == other._name
        return NotImplemented

    def __hash__(self) -> int:
        return hash((id(self._executor), self._name))

    def __repr__(self) -> str:
        return f"Database({self._name!r}, {self._executor!r})"

    # -- collections -------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Client[DocumentT]:
        if name.startswith("_"):
            raise AttributeError(name)
        return Client(self, name)

    def __getitem__(self, name: str) -> Client[DocumentT]:
        return Client(self, name)

    def get_collection(
        self,
        name: str,
        *,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        write_concern: WriteConcern | Mapping[str, Any] | None = None,
        read_concern: ReadConcern | None = None,
    ) -> Client[DocumentT]:
        """The collection ``name``, with options other than the database's."""
        options = self._options.replace(
            read_preference=read_preference,
            write_concern=write_concern,
            read_concern=read_concern,
        )
        return Client(self, name, options)

    def list_collections(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        name_only: bool = False,
    ) -> CommandCursor[DocumentT]:
        """A cursor over the collections' descriptions (``listCollections``)."""
        command: dict[str, Any] = {"listCollections": 1, "cursor": {}}
        if filter is not None:
            command["filter"] = filter
        if name_only:
            command["nameOnly"] = True
        request = Request(self._name, command, OperationKind.READ, retryable=True)
        return CommandCursor(self._executor, self._name, "$cmd.listCollections", request)

    async def list_collection_names(
        self,
        filter: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The names of the database's collections."""
        return [info["name"] async for info in self.list_collections(filter, name_only=True)]

    async def create_collection(self, name: str, **options: Any) -> Client[DocumentT]:
        """Create ``name`` with ``options`` by their server names (``capped=True``,
        ``size=...``); raises :class:`~mongotor.errors.OperationFailure`
        (NamespaceExists) if it exists."""
        command: dict[str, Any] = {"create": check_collection_name(name), **options}
        await self._run(command, kind=OperationKind.WRITE)
        return Client(self, name)

    async def drop_collection(self, name_or_collection: str | Client[Any]) -> None:
        """Drop a collection (nothing happens if it does not exist)."""
        name = (
            name_or_collection if isinstance(name_or_collection, str) else name_or_collection.name
        )
        await Client(self, name).drop()

    async def list_database_names(self) -> list[str]:
        """The names of the deployment's databases."""
        reply = await self._run({"listDatabases": 1, "nameOnly": True}, database="admin")
        return [info["name"] for info in reply["databases"]]

    async def drop(self) -> None:
        """Drop this database."""
        await self._run({"dropDatabase": 1}, kind=OperationKind.WRITE)

    # -- commands ------------------------------------------------------------------------------------

    async def command(
        self,
        command: str | Mapping[str, Any],
        value: Any = 1,
        check: bool = True,
        allowable_errors: Sequence[str | int] | None = None,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        """Run a database command and return its reply.

        ``command`` is a name (``"buildinfo"``; ``"collstats", name``;
        ``"filemd5", oid, root="fs"``: the name with ``value`` and ``kwargs``
        after it) or a whole document, sent as is (``kwargs`` are added). With
        ``check``, an ``ok: 0`` reply raises
        :class:`~mongotor.errors.OperationFailure` unless its code or message is
        in ``allowable_errors``. Runs on the primary unless ``read_preference``
        says otherwise; never retried.
        """
        if isinstance(command, str):
            document: dict[str, Any] = {_CANONICAL_COMMANDS.get(command, command): value}
        else:
            document = dict(command)
        document.update(kwargs)
        preference = None if read_preference is None else read_preference_from(read_preference)
        if check and not allowable_errors:
            return await self._run(document, read_preference=preference)
        reply = await self._run(document, read_preference=preference, check=False)
        allowed = allowable_errors or ()
        if check and reply.get("code") not in allowed and reply.get("errmsg") not in allowed:
            raise command_error(reply, None)
        return reply

    async def _run(
        self,
        command: Mapping[str, Any],
        *,
        database: str | None = None,
        kind: OperationKind = OperationKind.COMMAND,
        read_preference: ReadPreference | None = None,
        check: bool = True,
    ) -> Mapping[str, Any]:
        request = Request(
            database or self._name,
            command,
            kind,
            read_preference=read_preference or PRIMARY,
        )
        try:
            reply = await self._executor.execute(request)
        except Exception as exc:
            if check:
                raise
            details = getattr(exc, "details", None)
            if not isinstance(details, Mapping) or details.get("ok") != 0:
                raise
            return details
        return check_reply(reply.document, reply.address) if check else reply.document
