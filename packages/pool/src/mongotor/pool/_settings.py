"""How connections are opened and pooled, with every default applied.

:class:`ConnectionSettings` (timeouts, TLS, compression, credential, client
metadata) and :class:`PoolOptions` (CMAP's ConnectionPoolOptions) are built once
per client from :class:`~mongotor.pool.ConnectionOptions`, where an option not
given is ``None``; here each gets the default its specification names.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bson.codec_options import DEFAULT_CODEC_OPTIONS, CodecOptions

from mongotor.wire import available_compressors

from ._credentials import PERFORMED_MECHANISMS, Credential, credential_from_options
from ._errors import ConflictingOptionsError, InvalidOptionValueError, UnsupportedOptionError
from ._handshake import client_metadata
from ._options import ConnectionOptions
from ._tls import ssl_context_from_options

__all__ = ["DEFAULT_CONNECT_TIMEOUT_MS", "ConnectionSettings", "PoolOptions"]

logger = logging.getLogger(__name__)

#: URI Options spec: connectTimeoutMS defaults to 10 seconds.
DEFAULT_CONNECT_TIMEOUT_MS: Final = 10_000
# CMAP, "Connection Pool Options": the defaults.
_DEFAULT_MAX_POOL_SIZE: Final = 100
_DEFAULT_MAX_CONNECTING: Final = 2


def _seconds(milliseconds: int | None) -> float | None:
    # 0 means "no timeout" for every *TimeoutMS option.
    return milliseconds / 1000 if milliseconds else None


@dataclass(frozen=True, slots=True, repr=False)
class ConnectionSettings:
    """Everything needed to open one connection.

    ``connect_timeout_ms`` bounds the whole establishment (TCP, TLS, handshake,
    authentication); ``socket_timeout_ms`` each later operation that has no
    deadline of its own; for both, ``None`` or 0 means no limit. ``compressors``
    are offered in order of preference; ``credential`` is ``None`` without
    authentication. ``metadata`` is the handshake's ``client`` document (built
    from ``app_name`` when not given). ``repr()`` never shows credentials.
    """

    connect_timeout_ms: int | None = DEFAULT_CONNECT_TIMEOUT_MS
    socket_timeout_ms: int | None = None
    ssl_context: ssl.SSLContext | None = None
    compressors: tuple[str, ...] = ()
    zlib_compression_level: int | None = None
    credential: Credential | None = None
    app_name: str | None = None
    codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.metadata:
            object.__setattr__(self, "metadata", client_metadata(self.app_name))

    @property
    def connect_timeout(self) -> float | None:
        """``connect_timeout_ms`` in seconds (``None``: no limit)."""
        return _seconds(self.connect_timeout_ms)

    @property
    def socket_timeout(self) -> float | None:
        """``socket_timeout_ms`` in seconds (``None``: no limit)."""
        return _seconds(self.socket_timeout_ms)

    @classmethod
    def from_options(cls, options: ConnectionOptions) -> ConnectionSettings:
        """The settings ``options`` describe.

        Compressors whose optional package is not installed are left out (and
        logged). Raises :class:`~mongotor.pool.InvalidCredentialError` for an
        unusable credential, :class:`~mongotor.pool.UnsupportedOptionError` for
        an authentication mechanism mongotor does not perform or an option it
        does not support, and :class:`~mongotor.pool.InvalidOptionValueError`
        for TLS files that cannot be used.
        """
        options.check_supported()
        credential = credential_from_options(options)
        mechanism = credential.mechanism if credential is not None else None
        if mechanism is not None and mechanism not in PERFORMED_MECHANISMS:
            raise UnsupportedOptionError(
                f"authMechanism={mechanism} is not supported by mongotor",
                option="authMechanism",
                value=mechanism.value,
            )
        usable = set(available_compressors())
        wanted = options.compressors or ()
        compressors = tuple(name for name in wanted if name in usable)
        if len(compressors) != len(wanted):
            missing = ", ".join(name for name in wanted if name not in usable)
            logger.warning("compressors not installed, not offered to servers: %s", missing)
        return cls(
            connect_timeout_ms=DEFAULT_CONNECT_TIMEOUT_MS
            if options.connect_timeout_ms is None
            else options.connect_timeout_ms,
            socket_timeout_ms=options.socket_timeout_ms,
            ssl_context=ssl_context_from_options(options),
            compressors=compressors,
            zlib_compression_level=options.zlib_compression_level,
            credential=credential,
            app_name=options.app_name,
        )

    def __repr__(self) -> str:
        shown = [
            f"connect_timeout_ms={self.connect_timeout_ms}",
            f"socket_timeout_ms={self.socket_timeout_ms}",
            f"tls={self.ssl_context is not None}",
        ]
        if self.compressors:
            shown.append(f"compressors={list(self.compressors)}")
        if self.app_name is not None:
            shown.append(f"app_name={self.app_name!r}")
        if self.credential is not None:
            shown.append(f"credential={self.credential!r}")
        return f"ConnectionSettings({', '.join(shown)})"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """CMAP's ConnectionPoolOptions, with its defaults.

    ``max_pool_size``: connections per server, in use or idle (0: unlimited).
    ``min_pool_size``: connections kept established in the background.
    ``max_connecting``: connections being established at once.
    ``max_idle_time_ms``: an idle connection older than this is closed (0: never).
    ``wait_queue_timeout_ms``: how long a check-out may wait (0: no limit).
    Raises :class:`~mongotor.pool.InvalidOptionValueError` for a negative
    value or a zero ``max_connecting``, and
    :class:`~mongotor.pool.ConflictingOptionsError` for ``min_pool_size``
    above a non-zero ``max_pool_size``.
    """

    max_pool_size: int = _DEFAULT_MAX_POOL_SIZE
    min_pool_size: int = 0
    max_connecting: int = _DEFAULT_MAX_CONNECTING
    max_idle_time_ms: int = 0
    wait_queue_timeout_ms: int = 0

    def __post_init__(self) -> None:
        for name, value in self._named():
            if value < (1 if name == "maxConnecting" else 0):
                raise InvalidOptionValueError(
                    f"{name} cannot be {value}",
                    option=name,
                    value=str(value),
                    expected="a positive integer" if name == "maxConnecting" else "0 or more",
                )
        if self.max_pool_size and self.min_pool_size > self.max_pool_size:
            raise ConflictingOptionsError(
                f"minPoolSize {self.min_pool_size} exceeds maxPoolSize {self.max_pool_size}",
                option="minPoolSize",
                value=str(self.min_pool_size),
                other="maxPoolSize",
            )

    @classmethod
    def from_options(cls, options: ConnectionOptions) -> PoolOptions:
        """The pool options ``options`` give, defaults for the rest."""
        given = {
            "max_pool_size": options.max_pool_size,
            "min_pool_size": options.min_pool_size,
            "max_connecting": options.max_connecting,
            "max_idle_time_ms": options.max_idle_time_ms,
            "wait_queue_timeout_ms": options.wait_queue_timeout_ms,
        }
        return cls(**{name: value for name, value in given.items() if value is not None})

    def non_default(self) -> dict[str, int]:
        """The options that differ from CMAP's defaults, by their URI names
        (PoolCreatedEvent's ``options``)."""
        default = PoolOptions()
        return {
            name: value
            for (name, value), (_, standard) in zip(self._named(), default._named(), strict=True)
            if value != standard
        }

    def _named(self) -> tuple[tuple[str, int], ...]:
        return (
            ("maxPoolSize", self.max_pool_size),
            ("minPoolSize", self.min_pool_size),
            ("maxConnecting", self.max_connecting),
            ("maxIdleTimeMS", self.max_idle_time_ms),
            ("waitQueueTimeoutMS", self.wait_queue_timeout_ms),
        )
