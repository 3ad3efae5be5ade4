"""Fail points: mongod's ``failCommand``, set with ``configureFailPoint``.

A test mongod (``--setParameter enableTestCommands=1``) lets a test make the
server fail on purpose. fakemongo implements the fail point drivers' test
suites use, ``failCommand``, as the server does (util/fail_point.cpp for the
modes, db/commands.cpp ``shouldActivateFailCommandFailPoint`` and
``evaluateFailCommandFailPoint`` for the data, and the unified test format's
"Server Fail Points"):

- the mode: ``"off"``, ``"alwaysOn"``, ``{times: n}`` (fires n times, then
  turns itself off), ``{skip: n}`` (lets n matching commands through, then
  fires), ``{activationProbability: p}``;
- a command matches when its name (or one of mongod's aliases for it) is in
  ``failCommands`` (or ``failAllCommands`` is set), and ``appName``,
  ``namespace`` and ``threadName`` agree when given. configureFailPoint itself
  never matches;
- before the command runs, a matching fail point with ``blockConnection`` waits
  ``blockTimeMS``, then ``closeConnection`` closes the connection without a
  reply, or ``errorCode`` fails the command with ``{ok: 0, errmsg: "Failing
  command via 'failCommand' failpoint", code, codeName}``;
- after a command that takes a write concern, a matching fail point with
  ``writeConcernError`` adds that document to the reply. The two checks are
  separate hits, as in mongod: each counts against ``times`` / ``skip``;
- ``errorLabels`` replaces the labels the server would add.

Everything here decides; :mod:`fakemongo._hooks` waits and closes.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bson import Int64

from ._bsonorder import type_alias
from ._errors import CommandError, ErrorCode

__all__ = [
    "FAIL_COMMAND",
    "FAIL_COMMAND_MESSAGE",
    "CommandTarget",
    "FailPoint",
    "FailPoints",
    "Injection",
    "Mode",
    "WriteConcernInjection",
    "command_names",
    "parse_mode",
    "should_activate",
]

FAIL_COMMAND: Final = "failCommand"
FAIL_COMMAND_MESSAGE: Final = "Failing command via 'failCommand' failpoint"

# util/fail_point.cpp: {activationProbability: p} fires when a uniform int32
# draw is below p * INT32_MAX; the value is checked against this bound.
_INT32_MAX: Final = 2**31 - 1

# mongod registers some commands under several names (Command::hasAlias);
# failCommands matches any of them. fakemongo registers hello and isMaster
# (and endSessions / killSessions) as one handler, but in mongod they are
# separate commands, so a fail point on "hello" does not fail "isMaster".
_MONGOD_ALIASES: Final[tuple[frozenset[str], ...]] = (
    frozenset({"isMaster", "ismaster"}),
    frozenset({"buildInfo", "buildinfo"}),
    frozenset({"findAndModify", "findandmodify"}),
    frozenset({"collStats", "collstats"}),
    frozenset({"dbStats", "dbstats"}),
    frozenset({"dropIndexes", "deleteIndexes"}),
)
_ALIASES_OF: Final[dict[str, frozenset[str]]] = {
    name: group for group in _MONGOD_ALIASES for name in group
}

# Data fields mongod acts on that fakemongo does not implement: refused when
# the fail point is configured rather than silently ignored.
_UNSUPPORTED_DATA: Final = ("errorExtraInfo", "tassert")


def command_names(sent: str) -> frozenset[str]:
    """Every name mongod answers to for the command a client sent as ``sent``."""
    return _ALIASES_OF.get(sent, frozenset({sent}))


class Mode(enum.Enum):
    """A fail point's mode (util/fail_point.h ``FailPoint::Mode``)."""

    OFF = "off"
    ALWAYS_ON = "alwaysOn"
    TIMES = "times"
    SKIP = "skip"
    RANDOM = "activationProbability"


def _integer_option(options: Mapping[str, Any], name: str) -> int:
    # mongod: bsonExtractIntegerField, then the range checks of parseBSON.
    value = options[name]
    if isinstance(value, bool) or not isinstance(value, int | float | Int64):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f'Expected field "{name}" to have numeric type, but found {type_alias(value)}',
        )
    if value != int(value):
        raise CommandError(
            ErrorCode.BadValue,
            f'Expected field "{name}" to have a value exactly representable as a 64-bit '
            f"integer, but found {name}: {value!r}",
        )
    number = int(value)
    if number < 0:
        raise CommandError(ErrorCode.BadValue, f"'{name}' option to 'mode' must be positive")
    if number > _INT32_MAX:
        raise CommandError(ErrorCode.BadValue, f"'{name}' option to 'mode' is too large")
    return number


def parse_mode(body: Mapping[str, Any]) -> tuple[Mode, int, dict[str, Any]]:
    """``mode`` and ``data`` of a configureFailPoint command, as mongod's
    ``FailPoint::parseBSON`` reads them: (mode, times/skip/threshold, data).

    Raises :class:`CommandError` with mongod's code and message for a bad one.
    """
    if "mode" not in body:
        raise CommandError(
            ErrorCode.IllegalOperation, "When setting a failpoint, you must supply a 'mode'"
        )
    raw = body["mode"]
    mode: Mode
    value = 0
    if isinstance(raw, str):
        if raw not in ("off", "alwaysOn"):
            raise CommandError(ErrorCode.BadValue, f"unknown mode: {raw}")
        mode = Mode(raw)
    elif isinstance(raw, Mapping):
        if "times" in raw:
            mode, value = Mode.TIMES, _integer_option(raw, "times")
        elif "skip" in raw:
            mode, value = Mode.SKIP, _integer_option(raw, "skip")
        elif "activationProbability" in raw:
            mode, value = Mode.RANDOM, _probability(raw["activationProbability"])
        else:
            raise CommandError(
                ErrorCode.BadValue,
                "'mode' must be one of 'off', 'alwaysOn', '{times:n}', '{skip:n}' or "
                "'{activationProbability:p}'",
            )
    else:
        raise CommandError(ErrorCode.TypeMismatch, "'mode' must be a string or JSON object")
    data: dict[str, Any] = {}
    if "data" in body:
        if not isinstance(body["data"], Mapping):
            raise CommandError(ErrorCode.TypeMismatch, "the 'data' option must be a JSON object")
        data = dict(body["data"])
    return mode, value, data


def _probability(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | Int64):
        raise CommandError(
            ErrorCode.TypeMismatch,
            "the 'activationProbability' option to 'mode' must be a double between 0 and 1",
        )
    if not 0 <= value <= 1:
        raise CommandError(
            ErrorCode.BadValue,
            f"activationProbability must be between 0.0 and 1.0; found {float(value)}",
        )
    return int(_INT32_MAX * float(value))


@dataclass(slots=True)
class FailPoint:
    """One fail point's state: mode, the value that goes with it, data, and how
    many times it has fired (``timesEntered``, never reset)."""

    name: str
    mode: Mode = Mode.OFF
    value: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    times_entered: int = 0
    # waitForFailPoint: (times entered to wait for, the future to resolve).
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.mode is not Mode.OFF

    def set_mode(self, mode: Mode, value: int, data: dict[str, Any]) -> int:
        """Change the mode; return how many times it had fired until now
        (configureFailPoint's ``count``)."""
        self.mode, self.value, self.data = mode, value, data
        return self.times_entered

    def hit(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """mongod's ``FailPoint::shouldFail`` with a predicate: the data when
        the fail point fires for a caller the predicate accepts, else None.
        Only accepted callers count against ``times`` and ``skip``."""
        if self.mode is Mode.OFF or not predicate(self.data):
            return None
        if self.mode is Mode.TIMES:
            # fail_point.cpp: the countdown is decremented and then checked, so
            # {times: 0} still fires once (as it does on mongod).
            self.value -= 1
            if self.value <= 0:
                self.mode = Mode.OFF
        elif self.mode is Mode.SKIP:
            if self.value > 0:
                self.value -= 1
                return None
        elif self.mode is Mode.RANDOM and random.randrange(_INT32_MAX) >= self.value:  # noqa: S311 - a coin, not a secret
            return None
        self.times_entered += 1
        if self.waiters:
            self._wake()
        return self.data

    def _wake(self) -> None:
        waiting = []
        for target, waiter in self.waiters:
            if waiter.done():
                continue  # timed out or cancelled: nobody waits on it now
            if self.times_entered >= target:
                waiter.set_result(None)
            else:
                waiting.append((target, waiter))
        self.waiters = waiting

    async def wait_entered(self, target: int, limit: float) -> bool:
        """Wait until the fail point has fired ``target`` times in all (mongod's
        ``waitForTimesEntered``); False if ``limit`` seconds pass first."""
        if self.times_entered >= target:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append((target, waiter))
        try:
            done, _ = await asyncio.wait({waiter}, timeout=limit)
        finally:
            waiter.cancel()  # a no-op once resolved; frees the slot otherwise
        return bool(done)

    def describe(self) -> dict[str, Any]:
        """``{mode, data, timesEntered}`` as getParameter shows a fail point."""
        return {
            "mode": self.mode.value,
            "data": dict(self.data),
            "timesEntered": self.times_entered,
        }


@dataclass(frozen=True, slots=True)
class CommandTarget:
    """What ``shouldActivateFailCommandFailPoint`` looks at in a command."""

    names: frozenset[str]  # the command's name and mongod's aliases for it
    namespace: str  # "db.collection", or "db" for a command without one
    app_name: str  # the connection's hello client.application.name, or ""
    thread_name: str  # mongod's client description: "conn<id>"


def should_activate(data: Mapping[str, Any], target: CommandTarget) -> bool:
    """Whether failCommand's ``data`` selects this command (mongod's
    ``CommandHelpers::shouldActivateFailCommandFailPoint``).

    Every fakemongo connection is an external client with a session, so
    ``failInternalCommands`` and ``failLocalClients`` change nothing here.
    """
    if "configureFailPoint" in target.names:  # banned even if listed
        return False
    if "threadName" in data and data["threadName"] != target.thread_name:
        return False
    if "appName" in data and data["appName"] != target.app_name:
        return False
    if "namespace" in data and data["namespace"] != target.namespace:
        return False
    if "failAllCommands" in data:
        return True
    listed = data.get("failCommands")
    if not isinstance(listed, list):
        return False
    return any(isinstance(name, str) and name in target.names for name in listed)


def _bool_field(data: Mapping[str, Any], name: str) -> bool:
    # bsonExtractBooleanField: a bool or a number; anything else reads as unset.
    value = data.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Int64):
        return bool(value)
    return False


def _int_field(data: Mapping[str, Any], name: str) -> int | None:
    # bsonExtractIntegerField: a number exactly representable as an integer.
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | Int64):
        return None
    if value != int(value):
        return None
    return int(value)


def _labels(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    labels = data.get("errorLabels")
    if not isinstance(labels, list):
        return None
    return tuple(str(label) for label in labels)


def _code_name(code: int) -> str:
    # ErrorCodes::errorString: the name, or "Location<code>" for a code the
    # server's table does not have.
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"Location{code}"


@dataclass(frozen=True, slots=True)
class Injection:
    """What failCommand does to a command before it runs, in mongod's order:
    wait ``block_ms``, then close the connection, then fail with ``error``.
    ``error_labels`` (when not None) replace the server's own labels."""

    block_ms: int = 0
    close_connection: bool = False
    error: CommandError | None = None
    error_labels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class WriteConcernInjection:
    """A ``writeConcernError`` to add to a reply, and the labels that replace
    the server's own (when not None)."""

    write_concern_error: Any
    error_labels: tuple[str, ...] | None


def _injection(data: Mapping[str, Any]) -> Injection:
    labels = _labels(data)
    block_ms = 0
    if _bool_field(data, "blockConnection"):
        block = _int_field(data, "blockTimeMS")
        if block is None:
            error = CommandError(
                ErrorCode.InvalidOptions,
                "must specify 'blockTimeMS' when 'blockConnection' is true",
            )
            return Injection(error=error, error_labels=labels)
        if block < 0:
            error = CommandError(ErrorCode.InvalidOptions, "'blockTimeMS' must be non-negative")
            return Injection(error=error, error_labels=labels)
        block_ms = block
    if _bool_field(data, "closeConnection"):
        return Injection(block_ms, close_connection=True, error_labels=labels)
    code = _int_field(data, "errorCode")
    if code is None:
        return Injection(block_ms, error_labels=labels)
    error = CommandError(code, FAIL_COMMAND_MESSAGE, code_name=_code_name(code))
    return Injection(block_ms, error=error, error_labels=labels)


def _acts_before(data: Mapping[str, Any]) -> bool:
    # The second predicate of evaluateFailCommandFailPoint: only data that
    # closes, blocks or fails makes this a hit.
    return (
        _bool_field(data, "closeConnection")
        or _bool_field(data, "blockConnection")
        or _int_field(data, "errorCode") is not None
    )


@dataclass(slots=True)
class FailPoints:
    """The server's fail points. fakemongo has one, ``failCommand``."""

    fail_command: FailPoint = field(default_factory=lambda: FailPoint(FAIL_COMMAND))

    @property
    def armed(self) -> bool:
        """Whether any fail point is on (the dispatcher's fast path skips the
        rest when none is)."""
        return self.fail_command.mode is not Mode.OFF  # its ``active``, one call fewer

    def find(self, name: Any) -> FailPoint:
        """The fail point called ``name``; 266 FailPointSetFailed for another
        name (setGlobalFailPoint: "<name> not found")."""
        if name != FAIL_COMMAND:
            raise CommandError(
                ErrorCode.FailPointSetFailed,
                f"{name if isinstance(name, str) else ''} not found "
                "(fakemongo implements only the failCommand fail point)",
            )
        return self.fail_command

    def configure(self, name: Any, body: Mapping[str, Any]) -> int:
        """Apply a configureFailPoint command; return the fail point's count
        of times entered before the change (the reply's ``count``)."""
        point = self.find(name)
        mode, value, data = parse_mode(body)
        for unsupported in _UNSUPPORTED_DATA:
            if unsupported in data:
                raise CommandError(
                    ErrorCode.BadValue,
                    f"fakemongo does not support the failCommand data field '{unsupported}'",
                )
        return point.set_mode(mode, value, data)

    def before_command(self, target: CommandTarget) -> Injection | None:
        """What failCommand does to this command before it runs, if anything
        (one hit of the fail point when it does)."""
        data = self.fail_command.hit(lambda d: should_activate(d, target) and _acts_before(d))
        return None if data is None else _injection(data)

    def after_command(
        self, target: CommandTarget, reply: Mapping[str, Any]
    ) -> WriteConcernInjection | None:
        """The ``writeConcernError`` failCommand adds to the reply of a command
        that takes a write concern, if any (a separate hit of the fail point;
        never over a write concern error the reply already has)."""
        data = self.fail_command.hit(
            lambda d: (
                should_activate(d, target)
                and "writeConcernError" in d
                and "writeConcernError" not in reply
            )
        )
        if data is None:
            return None
        return WriteConcernInjection(data["writeConcernError"], _labels(data))
