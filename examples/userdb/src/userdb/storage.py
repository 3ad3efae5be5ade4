"""Where the users live: an embedded fakemongo, or the MongoDB ``MONGODB_URI`` names.

:func:`open_storage` connects the default ``Database`` (which the models use),
creates the model's indexes (the unique e-mail index the API's 409 relies on)
and says, in :attr:`Storage.description`, what it is talking to, for the page
footer. The description is built from the parsed connection string's hosts and
database only: never the user name, the password or the options.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

from fakemongo import FakeMongo
from mongotor.database import Database
from mongotor.pool import parse_uri

from .models import User

__all__ = ["DEFAULT_DATABASE", "Storage", "describe_uri", "open_storage"]

log = logging.getLogger(__name__)

#: The database used when the connection string names none.
DEFAULT_DATABASE = "userdb"


@dataclass(frozen=True)
class Storage:
    """A connected default Database, and the embedded server when there is one."""

    description: str
    server: FakeMongo | None = None

    @property
    def embedded(self) -> bool:
        return self.server is not None

    async def close(self) -> None:
        """Disconnect the default Database, then stop the embedded server."""
        await Database.disconnect()
        if self.server is not None:
            await self.server.stop()
        log.info("storage closed: %s", self.description)


def describe_uri(uri: str) -> tuple[str, str]:
    """The hosts (or SRV name) and the database of a connection string, nothing else."""
    with warnings.catch_warnings():
        # Database.connect has already warned about any option it ignores.
        warnings.simplefilter("ignore")
        parsed = parse_uri(uri)
    where = parsed.srv_host or ",".join(str(host) for host in parsed.hosts)
    return where, parsed.database or DEFAULT_DATABASE


async def open_storage(uri: str | None) -> Storage:
    """Connect to ``uri`` (a ``mongodb://`` or ``mongodb+srv://`` string), or
    start an embedded fakemongo on a free loopback port when it is ``None``.

    Raises what the client raises when the server cannot be reached or refuses
    (``mongotor.errors.ConnectionFailure``, ``OperationFailure``...), and
    ``mongotor.pool.ConfigurationError`` for a malformed connection string;
    nothing is left open then.
    """
    server: FakeMongo | None = None
    if uri is None:
        server = await FakeMongo().start()
        uri = server.uri
    try:
        where, name = describe_uri(uri) if server is None else (server.address, DEFAULT_DATABASE)
        database = Database.connect(uri, name)
        info = await database.command("buildinfo")
        await User.ensure_indexes()
    except BaseException:
        await Database.disconnect()
        if server is not None:
            await server.stop()
        raise
    if server is None:
        description = f"MongoDB {info['version']} at {where}, database {name}"
    else:
        description = (
            f"embedded fakemongo {FakeMongo.version} (answers as MongoDB {info['version']}) "
            f"at {where}, database {name}"
        )
    log.info("storage: %s", description)
    return Storage(description, server)
