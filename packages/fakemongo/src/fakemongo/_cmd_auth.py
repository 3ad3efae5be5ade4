"""Authentication and user management: saslStart, saslContinue, logout,
connectionStatus, createUser, dropUser, usersInfo, and hello's hooks.

SASL follows mongod's sasl_commands.cpp and authentication_session.cpp: one
conversation per connection, always conversationId 1; any failure of a
mechanism step is logged with its reason and answered 18 AuthenticationFailed
"Authentication failed." (so a client learns nothing about which user
exists); a saslContinue without a conversation is 17 ProtocolError. A
connection is authenticated as at most one user (MongoDB 6.0+,
``AuthorizationSessionImpl::addAndAuthorizeUser``).

User management follows user_management_commands.cpp and its authorization
checks (user_management_commands_common.cpp). Authorization is modelled for
these commands only, from the built-in roles, and only when the server
requires authentication (mongod skips every check without ``--auth``).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bson import Binary, Int64

from ._args import check_fields, get_bool, get_document, get_string
from ._bsonorder import type_alias
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._match import compile_filter
from ._scram import MECHANISMS, ScramError, ScramServer, b64decode
from ._users import RoleName, User, is_authorized, parse_auth_name, parse_users_info, role_closure

if TYPE_CHECKING:
    from ._state import ServerState

__all__ = ["sasl_supported_mechs", "speculative_authenticate"]

log = logging.getLogger("fakemongo.auth")

# sasl_commands.idl: "In practice, this field is always populated as 1."
_CONVERSATION_ID = 1
# AuthCounter (counters.cpp) knows the enabled mechanisms plus MONGODB-X509
# and both SCRAMs; a saslStart for any other name fails before anything else.
_KNOWN_MECHANISMS = frozenset({*MECHANISMS, "MONGODB-X509"})
_AUTHENTICATION_FAILED = "Authentication failed."
_INT32 = range(-(2**31), 2**31)
# bsontypes.cpp typeName(BinDataType), for a payload of the wrong subtype.
_BINARY_SUBTYPES = {
    1: "function",
    2: "byte(deprecated)",
    3: "UUID(deprecated)",
    4: "UUID",
    5: "MD5",
    6: "encrypt",
    7: "column",
    8: "sensitive",
    9: "vector",
    128: "Custom",
}


@dataclass(slots=True)
class _Conversation:
    """The connection's SASL conversation (mongod's AuthenticationSession)."""

    db: str
    scram: ScramServer


# -- argument parsing (the IDL parsers' checks and wording) ------------------


def _missing(command_name: str, field: str) -> CommandError:
    return CommandError(
        ErrorCode.Location40414,
        f"BSON field '{command_name}.{field}' is missing but a required field",
    )


def _wrong_type(command_name: str, field: str, value: Any, expected: str) -> CommandError:
    return CommandError(
        ErrorCode.TypeMismatch,
        f"BSON field '{command_name}.{field}' is the wrong type '{type_alias(value)}', "
        f"expected type '{expected}'",
    )


def _command_string(command_name: str, body: Mapping[str, Any]) -> str:
    value = body[command_name]
    if not isinstance(value, str):
        raise _wrong_type(command_name, command_name, value, "string")
    return value


def _payload(command_name: str, body: Mapping[str, Any]) -> tuple[bytes, bool]:
    """The SASL payload and whether it came (and goes back) as base64 text
    (sasl_payload.cpp, ``SaslPayload::parseFromBSON``)."""
    if "payload" not in body:
        raise _missing(command_name, "payload")
    value = body["payload"]
    if isinstance(value, str):
        try:
            return b64decode(value.encode()), True
        except CommandError as exc:
            raise CommandError(exc.code, f"Failed decoding SASL payload: {exc.errmsg}") from None
    if isinstance(value, Binary) and value.subtype != 0:
        name = _BINARY_SUBTYPES.get(value.subtype, "invalid")
        raise CommandError(
            ErrorCode.BadValue, f"Invalid SASLPayload subtype. Expected BinDataGeneral, got: {name}"
        )
    if isinstance(value, bytes):  # bson decodes BinData subtype 0 as bytes
        return bytes(value), False
    raise CommandError(
        ErrorCode.BadValue,
        f"Invalid SASLPayload type. Expected Base64 or BinData, got: {type_alias(value)}",
    )


def _reply(done: bool, payload: bytes, as_base64: bool) -> dict[str, Any]:
    # The reply's payload takes the request's form: base64 text or BinData.
    out = base64.b64encode(payload).decode() if as_base64 else Binary(payload, 0)
    return {"conversationId": _CONVERSATION_ID, "done": done, "payload": out}


def _parse_sasl_start(body: Mapping[str, Any]) -> tuple[str, bytes, bool, Mapping[str, Any] | None]:
    check_fields("saslStart", body, ("mechanism", "autoAuthorize", "options", "payload"))
    if "mechanism" not in body:
        raise _missing("saslStart", "mechanism")
    mechanism = get_string("saslStart", body, "mechanism")
    if mechanism is None:
        raise _wrong_type("saslStart", "mechanism", None, "string")
    get_bool("saslStart", body, "autoAuthorize", True)  # ignored, as by mongod
    options = get_document("saslStart", body, "options")
    payload, as_base64 = _payload("saslStart", body)
    return mechanism, payload, as_base64, options


# -- the SASL conversation ---------------------------------------------------


def _authenticate(ctx: Context, db: str, name: str) -> None:
    conn = ctx.conn
    current = ctx.server.users.authenticated_user(conn)
    if current is not None:
        if current.key == (db, name):
            return  # re-authenticating as the same user is allowed
        previous = f"{current.name}@{current.db}"
        if current.db != db:
            raise CommandError(
                ErrorCode.Location5626701,
                "Each client connection may only be authenticated once. "
                f"Previously authenticated as: {previous}",
            )
        raise CommandError(
            ErrorCode.Location5626702,
            # sic: no space after the period, as in mongod
            "Client has attempted to authenticate on multiple databases."
            f"Already authenticated as: {previous}",
        )
    conn.authenticated_users.add((db, name))


def _step(
    ctx: Context,
    conversation: _Conversation,
    payload: bytes,
    as_base64: bool,
    *,
    speculative: bool = False,
) -> dict[str, Any]:
    conns = ctx.conn.conversations
    scram = conversation.scram
    try:
        done, reply = scram.step(payload)
    except ScramError as exc:
        # mongod logs the reason (log id 20249) and tells the client only
        # that authentication failed. A speculative step that fails keeps its
        # conversation (AuthenticationSession::doStep); continuing it fails.
        log.info(
            "Authentication failed: mechanism=%s principal=%r db=%s speculative=%s error=%r",
            scram.mechanism, scram.principal, conversation.db, speculative, exc,
        )  # fmt: skip
        if not speculative:
            conns.pop(_CONVERSATION_ID, None)
        raise CommandError(ErrorCode.AuthenticationFailed, _AUTHENTICATION_FAILED) from None
    except CommandError:
        conns.pop(_CONVERSATION_ID, None)
        raise
    if done:
        conns.pop(_CONVERSATION_ID, None)
        assert scram.principal is not None  # set by the first step
        _authenticate(ctx, conversation.db, scram.principal)
        log.info(
            "Authentication succeeded: mechanism=%s user=%s@%s connection=%d",
            scram.mechanism, scram.principal, conversation.db, ctx.conn.connection_id,
        )  # fmt: skip
    return _reply(done, reply, as_base64)


def _start(
    ctx: Context,
    db: str,
    mechanism: str,
    payload: bytes,
    as_base64: bool,
    options: Mapping[str, Any] | None,
    *,
    speculative: bool,
) -> dict[str, Any]:
    # A new saslStart abandons any conversation in progress.
    ctx.conn.conversations.pop(_CONVERSATION_ID, None)
    if mechanism not in _KNOWN_MECHANISMS:
        raise CommandError(
            ErrorCode.MechanismUnavailable,
            f"Received authentication for mechanism {mechanism} which is not enabled",
        )
    if mechanism not in MECHANISMS or db == "$external":
        # SASLServerMechanismRegistry::getServerMechanism: SCRAM serves every
        # database but $external, and MONGODB-X509 is not a SASL mechanism.
        raise CommandError(
            ErrorCode.MechanismUnavailable,
            f"Unsupported mechanism '{mechanism}' on authentication database '{db}'",
        )
    skip = False
    if options is not None and "skipEmptyExchange" in options:
        skip = options["skipEmptyExchange"]
        if not isinstance(skip, bool):
            raise CommandError(ErrorCode.BadValue, "skipEmptyExchange must be boolean")
    users = ctx.server.users
    scram = ScramServer(
        mechanism,
        lambda name: users.scram_credential(db, name, mechanism),
        skip_empty_exchange=skip,
    )
    conversation = _Conversation(db, scram)
    ctx.conn.conversations[_CONVERSATION_ID] = conversation
    return _step(ctx, conversation, payload, as_base64, speculative=speculative)


@command("saslStart", requires_auth=False)
def sasl_start(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """First step in a SASL authentication conversation."""
    mechanism, payload, as_base64, options = _parse_sasl_start(body)
    return _start(ctx, ctx.db, mechanism, payload, as_base64, options, speculative=False)


@command("saslContinue", requires_auth=False)
def sasl_continue(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Subsequent steps in a SASL authentication conversation."""
    check_fields("saslContinue", body, ("conversationId", "payload"))
    if "conversationId" not in body:
        raise _missing("saslContinue", "conversationId")
    conversation_id = body["conversationId"]
    # IDL type "int": a BSON int32 and nothing else.
    if isinstance(conversation_id, bool | Int64) or not isinstance(conversation_id, int):
        raise _wrong_type("saslContinue", "conversationId", conversation_id, "int")
    if conversation_id not in _INT32:
        raise _wrong_type("saslContinue", "conversationId", conversation_id, "int")
    payload, as_base64 = _payload("saslContinue", body)
    conversation = ctx.conn.conversations.get(_CONVERSATION_ID)
    if conversation is None:
        raise CommandError(ErrorCode.ProtocolError, "No SASL session state found")
    if conversation_id != _CONVERSATION_ID:
        ctx.conn.conversations.pop(_CONVERSATION_ID, None)
        raise CommandError(ErrorCode.ProtocolError, "sasl: Mismatched conversation id")
    return _step(ctx, conversation, payload, as_base64)


def speculative_authenticate(ctx: Context, doc: Any) -> dict[str, Any] | None:
    """hello's ``speculativeAuthenticate`` (driver Auth spec, "Speculative
    Authentication"; mongod's hello_auth.cpp).

    ``doc`` is ``{saslStart: 1, mechanism, payload, db, options?}``. Returns
    the saslStart reply without ``ok`` for hello's ``speculativeAuthenticate``
    field, or None when it fails for any reason (mongod then answers hello
    without the field and the driver runs a normal saslStart). Raises
    CommandError, failing hello itself, only for a value that is not a
    non-empty document naming saslStart or authenticate.
    """
    if not isinstance(doc, Mapping):
        raise _wrong_type("hello", "speculativeAuthenticate", doc, "object")
    if not doc:
        raise CommandError(
            ErrorCode.BadValue, "hello.speculativeAuthenticate must be a non-empty Object"
        )
    first = next(iter(doc))
    if first not in ("saslStart", "authenticate"):
        raise CommandError(
            ErrorCode.Location51769, f"hello.speculativeAuthenticate unknown command: {first}"
        )
    if "db" not in doc:
        return None
    # Like a saslStart, a speculative start replaces any conversation.
    ctx.conn.conversations.pop(_CONVERSATION_ID, None)
    if first == "authenticate":
        # MONGODB-X509 is the only mechanism of authenticate; fakemongo
        # verifies no client certificates, so it fails, which hello hides.
        return None
    body = {("$db" if key == "db" else key): value for key, value in doc.items()}
    try:
        db = body["$db"]
        if not isinstance(db, str):
            raise _wrong_type("saslStart", "$db", db, "string")
        mechanism, payload, as_base64, options = _parse_sasl_start(body)
        return _start(ctx, db, mechanism, payload, as_base64, options, speculative=True)
    except CommandError as exc:
        log.debug("speculative authentication failed: %r", exc)
        return None


def sasl_supported_mechs(server: ServerState, user_name: Any) -> list[str] | None:
    """hello's ``saslSupportedMechs``: the SCRAM mechanisms the user has
    credentials for, or None (no field in the reply) for an unknown user.

    ``user_name`` is ``"db.user"`` or ``{user, db}``. Raises CommandError,
    failing hello, for any other shape (2 BadValue / 14 TypeMismatch).
    """
    if isinstance(user_name, str):
        db, sep, name = user_name.partition(".")
        if not sep:
            raise CommandError(
                ErrorCode.BadValue, "UserName must contain a '.' separated database.user pair"
            )
    elif isinstance(user_name, Mapping):
        db, name = parse_auth_name(user_name, "UserName", "user", strict=True)
    else:
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'hello.saslSupportedMechs' is the wrong type '{type_alias(user_name)}', "
            # mongod prints the closing quote inside the bracket.
            "expected types '[string, object']",
        )
    user = server.users.get(db, name)
    if user is None:
        log.info("Supported SASL mechanisms requested for unknown user %s@%s", name, db)
        return None
    return [mechanism for mechanism in MECHANISMS if mechanism in user.credentials]


@command("logout")
def logout(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Log out of the current database (deprecated; ends the user's session
    on this connection if it authenticated against this database)."""
    check_fields("logout", body, ())
    user = ctx.server.users.authenticated_user(ctx.conn)
    if user is not None and user.db == ctx.db:
        ctx.conn.authenticated_users.clear()
        log.info("connection %d logged out of %s@%s", ctx.conn.connection_id, user.name, user.db)
    return {}


@command("connectionStatus", requires_auth=False)
def connection_status(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Who this connection is authenticated as, and that user's roles."""
    check_fields("connectionStatus", body, ("showPrivileges",))
    show_privileges = get_bool("connectionStatus", body, "showPrivileges")
    user = ctx.server.users.authenticated_user(ctx.conn)
    info: dict[str, Any] = {"authenticatedUsers": [], "authenticatedUserRoles": []}
    if user is not None:
        info["authenticatedUsers"] = [{"user": user.name, "db": user.db}]
        info["authenticatedUserRoles"] = [role.document() for role in role_closure(user.roles)]
    if show_privileges:
        if user is not None:
            raise CommandError(
                ErrorCode.BadValue,
                "fakemongo does not implement privileges: connectionStatus showPrivileges "
                "is only answered for an unauthenticated connection",
            )
        info["authenticatedUserPrivileges"] = []
    return {"authInfo": info}


# -- user management ---------------------------------------------------------


def _require(ctx: Context, command_name: str, action: str, db: str | None, message: str) -> None:
    """mongod's checkAuthForTypedCommand for a user-administration action."""
    if not ctx.server.auth_required:
        return  # without --auth, mongod checks nothing
    user = ctx.server.users.authenticated_user(ctx.conn)
    # The dispatcher admits these commands only on authenticated connections.
    assert user is not None
    if not is_authorized(user.roles, action, db):
        raise CommandError(ErrorCode.Unauthorized, message)


def _parse_roles(body: Mapping[str, Any], db: str) -> list[RoleName]:
    if "roles" not in body:
        raise _missing("createUser", "roles")
    value = body["roles"]
    if value is None:
        # What mongod 8.0 answers for roles: null (verified against mongod by
        # FerretDB's compatibility tests).
        raise CommandError(ErrorCode.Location10065, "invalid parameter: expected an object (roles)")
    if not isinstance(value, list):
        raise _wrong_type("createUser", "roles", value, "array")
    roles = []
    for item in value:
        if isinstance(item, str):
            roles.append(RoleName(item, db))
        else:
            role_db, name = parse_auth_name(item, "RoleName", "role", strict=False)
            roles.append(RoleName(name, role_db))
    return roles


def _parse_mechanisms(body: Mapping[str, Any]) -> list[str] | None:
    value = body.get("mechanisms")
    if value is None:
        return None
    if not isinstance(value, list):
        raise _wrong_type("createUser", "mechanisms", value, "array")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong_type("createUser", f"mechanisms.{index}", item, "string")
    return value


@command("createUser")
def create_user(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Create a user on the current database (manual: createUser)."""
    db = ctx.db
    name = _command_string("createUser", body)
    fields = (
        "pwd",
        "customData",
        "roles",
        "digestPassword",
        "authenticationRestrictions",
        "mechanisms",
    )
    check_fields("createUser", body, fields)
    password = get_string("createUser", body, "pwd")
    custom_data = get_document("createUser", body, "customData")
    roles = _parse_roles(body, db)
    digest_password = get_bool("createUser", body, "digestPassword", True)
    restrictions = body.get("authenticationRestrictions")
    if restrictions is not None and not isinstance(restrictions, list):
        raise _wrong_type("createUser", "authenticationRestrictions", restrictions, "array")
    mechanisms = _parse_mechanisms(body)

    _require(ctx, "createUser", "createUser", db, f"Not authorized to create users on db: {db}")
    for role in dict.fromkeys(roles):
        _require(ctx, "createUser", "grantRole", role.db, f"Not authorized to grant role: {role}")
    if restrictions is not None:
        _require(ctx, "createUser", "setAuthenticationRestriction", db, "Unauthorized")

    if db == "local":
        raise CommandError(ErrorCode.BadValue, "Cannot create users in the local database")
    if "\0" in name:
        raise CommandError(ErrorCode.BadValue, "Username cannot contain NULL characters")
    external = db == "$external"
    if password is None and not external:
        raise CommandError(
            ErrorCode.BadValue,
            "Must provide a 'pwd' field for all user documents, except those with '$external' "
            "as the user's source db",
        )
    if password is not None and external:
        raise CommandError(
            ErrorCode.BadValue,
            "Cannot set the password for users defined on the '$external' database",
        )
    if mechanisms is not None and not mechanisms:
        raise CommandError(ErrorCode.BadValue, "mechanisms field must not be empty")
    if restrictions:
        raise CommandError(
            ErrorCode.BadValue,
            "fakemongo does not implement authenticationRestrictions (createUser)",
        )
    ctx.server.users.add_user(
        db,
        name,
        password,
        roles,
        mechanisms,
        custom_data=custom_data,
        digest_password=digest_password,
    )
    log.info("created user %s@%s", name, db)
    return {}


@command("dropUser")
def drop_user(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Remove a user from the current database (manual: dropUser)."""
    db = ctx.db
    name = _command_string("dropUser", body)
    check_fields("dropUser", body, ())
    _require(
        ctx, "dropUser", "dropUser", db, f"Not authorized to drop users from the {db} database"
    )
    ctx.server.users.remove(db, name)
    log.info("dropped user %s@%s", name, db)
    return {}


@command("usersInfo")
def users_info(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Describe users: ``1`` (this database), ``{forAllDBs: true}``, a name,
    ``{user, db}``, or a list of those (manual: usersInfo)."""
    db = ctx.db
    fields = (
        "showCredentials",
        "showCustomData",
        "showPrivileges",
        "showAuthenticationRestrictions",
        "filter",
    )
    check_fields("usersInfo", body, fields)
    kind, names = parse_users_info(body["usersInfo"], db)
    show_credentials = get_bool("usersInfo", body, "showCredentials")
    show_custom_data = get_bool("usersInfo", body, "showCustomData", True)
    show_privileges = get_bool("usersInfo", body, "showPrivileges")
    show_restrictions = get_bool("usersInfo", body, "showAuthenticationRestrictions")
    filter_spec = get_document("usersInfo", body, "filter")

    denied = f"Not authorized to view users from the {db} database"
    if kind == "db":
        _require(ctx, "usersInfo", "viewUser", db, denied)
    elif kind == "all":
        _require(
            ctx, "usersInfo", "viewUser", None, "Not authorized to view users from all databases"
        )
    else:
        me = ctx.server.users.authenticated_user(ctx.conn)
        for user_db, name in names:
            if me is None or me.key != (user_db, name):  # anyone may view themselves
                _require(ctx, "usersInfo", "viewUser", user_db, denied)

    if show_privileges or show_restrictions:
        if filter_spec is not None or kind != "exact":
            raise CommandError(
                ErrorCode.IllegalOperation,
                "Privilege or restriction details require exact-match usersInfo queries",
            )
        raise CommandError(
            ErrorCode.BadValue,
            "fakemongo does not implement usersInfo showPrivileges / "
            "showAuthenticationRestrictions",
        )
    store = ctx.server.users
    users: Sequence[User]
    if kind == "exact":
        wanted = set(names)
        users = [user for user in store.list() if user.key in wanted]
    else:
        users = store.list(db if kind == "db" else None)
    docs = [
        user.document(show_credentials=show_credentials, show_custom_data=show_custom_data)
        for user in users
    ]
    if filter_spec is not None:
        matcher = compile_filter(filter_spec)
        docs = [doc for doc in docs if matcher.matches(doc)]
    return {"users": docs}
