"""Users, their SCRAM credentials and their built-in roles, as mongod keeps them.

A user is keyed by ``(db, user)``: its authentication database and name. Like
mongod (user_management_commands.cpp, ``buildCredentials``) the store keeps,
per mechanism, only a salt, an iteration count, StoredKey and ServerKey:

- SCRAM-SHA-1 hashes the MONGODB-CR digest ``md5("<user>:mongo:<password>")``
  (hex), not the password itself (MongoDB's SCRAM-SHA-1 profile; the driver
  Auth spec, "SCRAM-SHA-1");
- SCRAM-SHA-256 hashes the SASLprep'd password (RFC 7677; mongod's
  ``icuSaslPrep``), and needs the server to see the real password
  (``digestPassword: false`` is refused for it).

Iteration counts are mongod's defaults: 10000 for SHA-1, 15000 for SHA-256.
Plaintext passwords are never stored, logged, or shown in a repr.

Commands name users and roles as ``{user, db}`` / ``{role, db}`` documents or
strings; :func:`parse_auth_name` and :func:`parse_users_info` read them with
mongod's checks and wording (auth_name.cpp, umc_info_command_arg.h).

Roles are MongoDB's built-in roles (src/mongo/db/auth/builtin_roles.yml):
the database roles valid on every database, the admin-only ones, and the
role graph that says which roles a role inherits. User-defined roles
(createRole) are not implemented, so any other role name is "not found".
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from bson import Binary, Decimal128

from ._bsonorder import type_alias
from ._errors import CommandError, ErrorCode
from ._scram import (
    MECHANISMS,
    SCRAM_SHA_1,
    SCRAM_SHA_256,
    SaslPrepError,
    ScramCredential,
    ScramError,
    saslprep,
)

if TYPE_CHECKING:
    from ._state import ConnectionState, ServerOptions

__all__ = [
    "USER_ADMIN_ACTIONS",
    "RoleName",
    "User",
    "UserStore",
    "is_authorized",
    "is_builtin_role",
    "mongodb_cr_digest",
    "parse_auth_name",
    "parse_users_info",
    "role_closure",
]

log = logging.getLogger("fakemongo.auth")

# builtin_roles.yml: roles every database has, and roles only admin has.
_DATABASE_ROLES: Final = frozenset(
    {"read", "readWrite", "dbAdmin", "userAdmin", "dbOwner", "enableSharding"}
)
_ADMIN_ROLES: Final = frozenset(
    {
        "readAnyDatabase",
        "readWriteAnyDatabase",
        "userAdminAnyDatabase",
        "dbAdminAnyDatabase",
        "clusterMonitor",
        "hostManager",
        "clusterManager",
        "clusterAdmin",
        "__queryableBackup",
        "backup",
        "restore",
        "root",
        "directShardOperations",
        "__system",
    }
)
# builtin_roles.yml "roles:" entries: (role, db) pairs a role inherits; None
# stands for "the role's own database" (dbOwner is per database).
_SUBROLES: Final[dict[str, tuple[tuple[str, str | None], ...]]] = {
    "dbOwner": (("readWrite", None), ("dbAdmin", None), ("userAdmin", None)),
    "readWriteAnyDatabase": (("readAnyDatabase", "admin"),),
    "clusterMonitor": (("read", "config"), ("read", "local")),
    "clusterManager": (("read", "config"),),
    "clusterAdmin": (
        ("clusterMonitor", "admin"),
        ("hostManager", "admin"),
        ("clusterManager", "admin"),
    ),
    "backup": (("__queryableBackup", "admin"),),
    "root": (
        ("clusterAdmin", "admin"),
        ("userAdminAnyDatabase", "admin"),
        ("dbAdminAnyDatabase", "admin"),
        ("readWriteAnyDatabase", "admin"),
        ("backup", "admin"),
        ("restore", "admin"),
        ("directShardOperations", "admin"),
    ),
}
#: The userAdmin role's actions (builtin_roles.yml, userAdminRoleActions).
USER_ADMIN_ACTIONS: Final = frozenset(
    {
        "changeCustomData",
        "changePassword",
        "createUser",
        "createRole",
        "dropUser",
        "dropRole",
        "grantRole",
        "revokeRole",
        "setAuthenticationRestriction",
        "viewUser",
        "viewRole",
    }
)
# Databases the "any normal resource" pattern does not cover (which is why
# userAdminAnyDatabase lists them separately).
_NOT_NORMAL_DATABASES: Final = frozenset({"local", "config"})


@dataclass(frozen=True, slots=True, order=True)
class RoleName:
    """A role on a database, ``role@db`` (manual: "Built-In Roles")."""

    role: str
    db: str

    def document(self) -> dict[str, str]:
        return {"role": self.role, "db": self.db}

    def __str__(self) -> str:
        return f"{self.role}@{self.db}"


def is_builtin_role(role: RoleName) -> bool:
    """Whether ``role`` is one of MongoDB's built-in roles on that database."""
    return role.role in _DATABASE_ROLES or (role.role in _ADMIN_ROLES and role.db == "admin")


def role_closure(roles: Iterable[RoleName]) -> list[RoleName]:
    """The roles given and every role they inherit, each once, direct roles first."""
    result: list[RoleName] = []
    pending = list(roles)
    while pending:
        role = pending.pop(0)
        if role in result:
            continue
        result.append(role)
        pending.extend(RoleName(name, db or role.db) for name, db in _SUBROLES.get(role.role, ()))
    return result


def is_authorized(roles: Iterable[RoleName], action: str, db: str | None) -> bool:
    """Whether ``roles`` grant a user-administration ``action`` on database
    ``db`` (``None``: on the cluster, as usersInfo forAllDBs needs).

    Only :data:`USER_ADMIN_ACTIONS` are modelled; any other action is refused.
    """
    if action not in USER_ADMIN_ACTIONS:
        return False
    for role in role_closure(roles):
        if role.role == "__system" or (role.role == "userAdminAnyDatabase" and role.db == "admin"):
            return True
        if db is None:
            continue
        if role.role == "userAdmin" and role.db == db:
            return True
        # restore grants the userAdmin actions on any normal resource.
        if role.role == "restore" and role.db == "admin" and db not in _NOT_NORMAL_DATABASES:
            return True
    return False


def mongodb_cr_digest(user: str, password: str) -> str:
    """The MONGODB-CR password digest SCRAM-SHA-1 hashes: md5("user:mongo:pwd") in hex."""
    return hashlib.md5(f"{user}:mongo:{password}".encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    """One user document. ``credentials`` maps mechanism name to credential;
    ``external`` users (``$external``) have none. The repr shows no secrets."""

    db: str
    name: str
    user_id: Binary = field(repr=False)
    roles: tuple[RoleName, ...]
    custom_data: Mapping[str, Any] | None = field(default=None, repr=False)
    credentials: Mapping[str, ScramCredential] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.db, self.name)

    @property
    def external(self) -> bool:
        return not self.credentials

    @property
    def mechanisms(self) -> list[str]:
        """Mechanism names, as usersInfo lists the credentials' keys."""
        return ["external"] if self.external else list(self.credentials)

    def document(
        self, *, show_credentials: bool = False, show_custom_data: bool = True
    ) -> dict[str, Any]:
        """The usersInfo entry: mongod's system.users document with ``credentials``
        replaced by ``mechanisms`` (kept too when ``show_credentials``)."""
        doc: dict[str, Any] = {
            "_id": f"{self.db}.{self.name}",
            "userId": self.user_id,
            "user": self.name,
            "db": self.db,
        }
        if show_credentials:
            if self.external:
                doc["credentials"] = {"external": True}
            else:
                doc["credentials"] = {
                    name: cred.document() for name, cred in self.credentials.items()
                }
        if show_custom_data and self.custom_data is not None:
            doc["customData"] = dict(self.custom_data)
        doc["roles"] = [role.document() for role in self.roles]
        doc["mechanisms"] = self.mechanisms
        return doc


def _prepare(password: str) -> str:
    # mongod runs the password through ICU: UString::fromUTF8 refuses an empty
    # string (50687), and usprep_prepare's preflight fails (50692) when SASLprep
    # refuses the string or leaves nothing of it.
    if not password:
        raise CommandError(
            ErrorCode.Location50687,
            "Error preflighting UTF-8 conversion: U_STRING_NOT_TERMINATED_WARNING",
        )
    try:
        prepared = saslprep(password)
    except SaslPrepError as exc:
        raise CommandError(
            ErrorCode.Location50692, f"Error preflighting normalization: {exc.icu_error}"
        ) from None
    if not prepared:
        raise CommandError(
            ErrorCode.Location50692,
            "Error preflighting normalization: U_STRING_NOT_TERMINATED_WARNING",
        )
    return prepared


# -- user and role names in commands (auth_name.cpp, umc_info_command_arg.h) --


def parse_auth_name(value: Any, kind: str, name_field: str, *, strict: bool) -> tuple[str, str]:
    """``(db, name)`` from ``{<name_field>: str, db: str}`` (auth_name.cpp,
    ``AuthName::parseFromBSONObj``); UserName refuses unknown fields, RoleName
    ignores them."""
    if not isinstance(value, Mapping):
        raise CommandError(ErrorCode.BadValue, f"{kind} must be either a string or an object")
    found: dict[str, str] = {}
    for key, item in value.items():
        if key in (name_field, "db"):
            if not isinstance(item, str):
                raise CommandError(
                    ErrorCode.BadValue,
                    f"{kind} must contain a string field named: {key}. "
                    f"But, has type {type_alias(item)}",
                )
            found[key] = item
        elif strict:
            # The unbalanced quote is mongod's.
            raise CommandError(
                ErrorCode.BadValue, f"{kind} contains an unknown field named: '{key}"
            )
    for key in (name_field, "db"):
        if key not in found:
            raise CommandError(ErrorCode.BadValue, f"{kind} must contain a field named: {key}")
    return found["db"], found[name_field]


def _true_value(value: Any) -> bool:
    # BSONElement::trueValue: null and false are false, numbers by value, all else true.
    if isinstance(value, Decimal128):
        return bool(value.to_decimal())
    if value is None or isinstance(value, bool | int | float):
        return bool(value)
    return True


def _is_one(value: Any) -> bool:
    # BSONElement::isNumber() && safeNumberLong() == 1: doubles truncate.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal128):
        return False
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    return math.isfinite(number) and int(number) == 1


def parse_users_info(value: Any, db: str) -> tuple[str, list[tuple[str, str]]]:
    """usersInfo's argument (umc_info_command_arg.h): ``("db", [])`` for 1,
    ``("all", [])`` for ``{forAllDBs: true}``, else ``("exact", [(db, user)...])``."""
    if _is_one(value):
        return "db", []
    if isinstance(value, Mapping) and _true_value(value.get("forAllDBs")):
        return "all", []
    items = value if isinstance(value, list) else [value]
    names = [
        (db, item)
        if isinstance(item, str)
        else parse_auth_name(item, "UserName", "user", strict=True)
        for item in items
    ]
    return "exact", names


class UserStore:
    """Every user of one server, keyed by ``(db, user)``."""

    def __init__(self) -> None:
        self._users: dict[tuple[str, str], User] = {}

    @classmethod
    def from_options(cls, options: ServerOptions) -> UserStore:
        """The users a server starts with, from ``ServerOptions.users``.

        Each gets both SCRAM mechanisms and the widest built-in role of its
        database: ``root`` for admin users, ``dbOwner`` for the others.
        Raises CommandError as :meth:`add_user` does (an empty password, or
        one SASLprep refuses, or the same user twice).
        """
        store = cls()
        for db, name, password in options.users:
            role = RoleName("root", "admin") if db == "admin" else RoleName("dbOwner", db)
            store.add_user(db, name, password, [role])
        return store

    def has_users(self) -> bool:
        return bool(self._users)

    def add_user(
        self,
        db: str,
        user: str,
        password: str | None,
        roles: Sequence[RoleName],
        mechanisms: Sequence[str] | None = None,
        *,
        custom_data: Mapping[str, Any] | None = None,
        digest_password: bool = True,
    ) -> User:
        """Create a user, as createUser does, and return it.

        ``password`` None makes an external user (no credentials). Without
        ``mechanisms`` both SCRAM mechanisms are built. With ``digest_password``
        False the password is taken as the MONGODB-CR digest already.

        Raises CommandError, checking in mongod's order: 2 BadValue for an
        unknown mechanism or SCRAM-SHA-256 without ``digest_password``, 50687 /
        50692 for a password SASLprep refuses, 2 BadValue for an empty user
        name, 31 RoleNotFound for a role that is not built in, 51003 if the
        user exists.
        """
        credentials: dict[str, ScramCredential] = {}
        if password is not None:
            wanted = list(MECHANISMS) if mechanisms is None else list(mechanisms)
            for mechanism in wanted:
                if mechanism not in MECHANISMS:
                    raise CommandError(ErrorCode.BadValue, f"Unknown auth mechanism '{mechanism}'")
            if SCRAM_SHA_1 in wanted:
                hashed = mongodb_cr_digest(user, password) if digest_password else password
                credentials[SCRAM_SHA_1] = ScramCredential.derive(SCRAM_SHA_1, hashed)
            if SCRAM_SHA_256 in wanted:
                if not digest_password:
                    raise CommandError(
                        ErrorCode.BadValue, "Use of SCRAM-SHA-256 requires undigested passwords"
                    )
                credentials[SCRAM_SHA_256] = ScramCredential.derive(
                    SCRAM_SHA_256, _prepare(password)
                )
        if not user:
            raise CommandError(
                ErrorCode.BadValue, "User document needs 'user' field to be non-empty"
            )
        unknown = [str(role) for role in dict.fromkeys(roles) if not is_builtin_role(role)]
        if unknown:
            # AuthorizationBackendLocal::makeRoleNotFoundStatus.
            plural = "s" if len(unknown) > 1 else ""
            raise CommandError(
                ErrorCode.RoleNotFound, f"Could not find role{plural}: {', '.join(unknown)}"
            )
        if (db, user) in self._users:
            raise CommandError(ErrorCode.Location51003, f'User "{user}@{db}" already exists')
        created = User(
            db=db,
            name=user,
            user_id=Binary.from_uuid(uuid.uuid4()),
            roles=tuple(dict.fromkeys(roles)),
            custom_data=None if custom_data is None else dict(custom_data),
            credentials=credentials,
        )
        self._users[created.key] = created
        return created

    def remove(self, db: str, user: str) -> User:
        """Drop a user and return it; 11 UserNotFound as dropUser words it."""
        try:
            return self._users.pop((db, user))
        except KeyError:
            raise CommandError(ErrorCode.UserNotFound, f"User '{user}@{db}' not found") from None

    def get(self, db: str, user: str) -> User | None:
        return self._users.get((db, user))

    def list(self, db: str | None = None) -> builtins.list[User]:
        """The users of ``db`` (every user when None), ordered by user then db
        as usersInfo orders them."""
        users = [u for u in self._users.values() if db is None or u.db == db]
        return sorted(users, key=lambda u: (u.name, u.db))

    def authenticated_user(self, conn: ConnectionState) -> User | None:
        """The user ``conn`` is authenticated as, forgetting one dropped since.

        mongod refreshes a session's user at the start of every request and
        logs the session out of a user that no longer exists ("Removed deleted
        user from session cache of user information"). The dispatcher's auth
        gate should ask this rather than read ``conn.authenticated_users``.
        """
        for key in list(conn.authenticated_users):
            user = self._users.get(key)
            if user is not None:
                return user
            log.info(
                "connection %d: user %s@%s no longer exists", conn.connection_id, key[1], key[0]
            )
            conn.authenticated_users.discard(key)
        return None

    def scram_credential(self, db: str, user: str, mechanism: str) -> ScramCredential:
        """The credential a SCRAM conversation verifies against; raises
        :class:`ScramError` with mongod's status for an unknown user or a user
        without that mechanism (both reach the client as AuthenticationFailed)."""
        found = self._users.get((db, user))
        if found is None:
            raise ScramError(ErrorCode.UserNotFound, f'Could not find user "{user}" for db "{db}"')
        credential = found.credentials.get(mechanism)
        if credential is None:
            raise ScramError(
                ErrorCode.MechanismUnavailable,
                f"Unable to use {mechanism} based authentication for user without any "
                f"{mechanism} credentials registered",
            )
        return credential

    def __len__(self) -> int:
        return len(self._users)

    def __repr__(self) -> str:
        return f"<UserStore users={len(self._users)}>"
