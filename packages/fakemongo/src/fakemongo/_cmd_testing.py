"""Test commands: ``configureFailPoint`` and ``waitForFailPoint``, registered
only with test commands on.

mongod registers its test commands only when started with
``--setParameter enableTestCommands=1`` (MONGO_REGISTER_COMMAND(...).testOnly());
without it they do not exist and answer 59 CommandNotFound. fakemongo is a test
server, so they are on unless ``ServerOptions(enable_test_commands=False)``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from ._args import get_int, missing_field
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode

__all__: list[str] = []


@command("configureFailPoint", requires_auth=False, admin_only=True, test_only=True)
def configure_fail_point(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Modifies the settings of a fail point (fakemongo: failCommand)."""
    # db/commands/fail_point_cmd.cpp: no authentication needed (it exists only
    # on a test server); the reply's count is how many times the fail point
    # had fired before this change (appendNumber: an int while it fits).
    count = ctx.server.failpoints.configure(body["configureFailPoint"], body)
    return {"count": count}


@command("waitForFailPoint", admin_only=True, test_only=True)
def wait_for_fail_point(ctx: Context, body: dict[str, Any]) -> Awaitable[dict[str, Any]]:
    """Waits until a fail point has been entered a number of times in all."""
    # db/commands/fail_point_cmd.cpp and wait_for_fail_point.idl: timesEntered
    # and maxTimeMS are required; the wait ends with 50 MaxTimeMSExpired.
    point = ctx.server.failpoints.find(body["waitForFailPoint"])
    target = get_int("waitForFailPoint", body, "timesEntered")
    if target is None:
        raise missing_field("waitForFailPoint", "timesEntered")
    max_time = get_int("waitForFailPoint", body, "maxTimeMS")
    if max_time is None:
        raise missing_field("waitForFailPoint", "maxTimeMS")
    return _wait(point.wait_entered(target, max_time / 1000))


async def _wait(entered: Awaitable[bool]) -> dict[str, Any]:
    if not await entered:
        raise CommandError(ErrorCode.MaxTimeMSExpired, "operation exceeded time limit")
    return {}
