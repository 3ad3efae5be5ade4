"""Imports every command module so that each registers its handlers."""

from __future__ import annotations

from . import _cmd_admin as _cmd_admin
from . import _cmd_aggregate as _cmd_aggregate
from . import _cmd_auth as _cmd_auth
from . import _cmd_crud as _cmd_crud
from . import _cmd_databases as _cmd_databases
from . import _cmd_replset as _cmd_replset
from . import _cmd_testing as _cmd_testing
from . import _cmd_write as _cmd_write

__all__: list[str] = []
