"""mongotor.pool: connection strings, connections, pooling, discovery, server selection.

Configuration comes first: :func:`parse_uri` turns a ``mongodb://`` or
``mongodb+srv://`` connection string into immutable :class:`ConnectionOptions`
(and :func:`from_addresses` does the same for the 2012 library's
``addresses, dbname`` form); :func:`resolve_srv` performs ``mongodb+srv://``
seedlist discovery at first use, and :func:`apply_seedlist` is its pure core.

Discovery and selection decide purely over immutable descriptions (SDAM and
Server Selection): :func:`parse_hello` turns a hello reply into a
:class:`ServerDescription`; :func:`update_topology` gives the next
:class:`TopologyDescription` after a check, starting from
:func:`initial_topology`; :func:`handle_application_error` says what an
operation's error means (mark Unknown, clear the pool, check now);
:func:`topology_changes` lists what the shell must start, stop or re-check; and
:func:`select_server` picks a server for a read (:class:`ReadPreference`) or a
write.

Connections and pooling (CMAP): :func:`open_connection` opens one
:class:`Connection` (TCP or a UNIX socket, TLS per :func:`ssl_context_from_options`,
the handshake, SCRAM authentication) with :class:`ConnectionSettings`;
:class:`Pool` keeps the connections of one server (:func:`create_pool` for real
ones, :class:`PoolOptions` for its limits) and reports CMAP events to listeners.
Errors of using a server carry the facts SDAM needs (:func:`as_application_error`).

The async shell ties them together: :class:`Topology` (:func:`create_topology`
for real servers) runs one :class:`Monitor` per server, applies every check and
every operation error through the pure core, selects servers (waiting for the
topology to change, up to ``serverSelectionTimeoutMS``), polls SRV records for
``mongodb+srv://``, and hands the client layer a connection with
``async with topology.checkout(...) as (server, connection)``. SDAM events
(:class:`TopologyOpening` ... :class:`ServerHeartbeatFailed`) go to listeners.
"""

from __future__ import annotations

from ._auth import authenticate as authenticate
from ._auth import choose_mechanism as choose_mechanism
from ._auth import speculative_start as speculative_start
from ._checkout import Checkout as Checkout
from ._checkout import Server as Server
from ._connect import open_connection as open_connection
from ._connect import split_address as split_address
from ._connection import Connection as Connection
from ._connection import ConnectionState as ConnectionState
from ._connection_errors import AuthenticationError as AuthenticationError
from ._connection_errors import CommandError as CommandError
from ._connection_errors import ConnectionFailure as ConnectionFailure
from ._connection_errors import NetworkError as NetworkError
from ._connection_errors import NetworkTimeout as NetworkTimeout
from ._connection_errors import PoolClearedError as PoolClearedError
from ._connection_errors import PoolClosedError as PoolClosedError
from ._connection_errors import TooManyConnections as TooManyConnections
from ._connection_errors import as_application_error as as_application_error
from ._credentials import PERFORMED_MECHANISMS as PERFORMED_MECHANISMS
from ._credentials import AuthMechanism as AuthMechanism
from ._credentials import Credential as Credential
from ._credentials import credential_from_options as credential_from_options
from ._error_handling import BACKPRESSURE_LABELS as BACKPRESSURE_LABELS
from ._error_handling import ApplicationError as ApplicationError
from ._error_handling import ErrorKind as ErrorKind
from ._error_handling import ErrorOutcome as ErrorOutcome
from ._error_handling import StateChangeCode as StateChangeCode
from ._error_handling import establishment_error_labels as establishment_error_labels
from ._error_handling import handle_application_error as handle_application_error
from ._error_handling import is_not_writable_primary as is_not_writable_primary
from ._error_handling import is_recovering as is_recovering
from ._error_handling import is_shutting_down as is_shutting_down
from ._error_handling import is_state_change_error as is_state_change_error
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConflictingOptionsError as ConflictingOptionsError
from ._errors import ConnectionStringWarning as ConnectionStringWarning
from ._errors import DeprecatedOptionWarning as DeprecatedOptionWarning
from ._errors import EventLoopMismatchError as EventLoopMismatchError
from ._errors import IncompatibleServerError as IncompatibleServerError
from ._errors import InvalidCredentialError as InvalidCredentialError
from ._errors import InvalidOptionValueError as InvalidOptionValueError
from ._errors import InvalidOptionValueWarning as InvalidOptionValueWarning
from ._errors import InvalidReadPreferenceError as InvalidReadPreferenceError
from ._errors import InvalidURIError as InvalidURIError
from ._errors import RepeatedOptionWarning as RepeatedOptionWarning
from ._errors import SeedlistDiscoveryError as SeedlistDiscoveryError
from ._errors import ServerSelectionError as ServerSelectionError
from ._errors import TopologyClosedError as TopologyClosedError
from ._errors import UnknownOptionWarning as UnknownOptionWarning
from ._errors import UnsupportedOptionError as UnsupportedOptionError
from ._handshake import DRIVER_NAME as DRIVER_NAME
from ._handshake import HandshakeResult as HandshakeResult
from ._handshake import client_metadata as client_metadata
from ._handshake import hello_command as hello_command
from ._handshake import parse_handshake as parse_handshake
from ._hello import normalize_address as normalize_address
from ._hello import parse_hello as parse_hello
from ._hello import parse_topology_version as parse_topology_version
from ._monitor import DEFAULT_RESCAN_SRV_INTERVAL_MS as DEFAULT_RESCAN_SRV_INTERVAL_MS
from ._monitor import CheckReporter as CheckReporter
from ._monitor import Monitor as Monitor
from ._monitor import MonitorFactory as MonitorFactory
from ._monitor import MonitorSettings as MonitorSettings
from ._monitor import RoundTripTimes as RoundTripTimes
from ._monitor import ServerMonitor as ServerMonitor
from ._monitor import faas_platform as faas_platform
from ._options import DEFAULT_PORT as DEFAULT_PORT
from ._options import ConnectionOptions as ConnectionOptions
from ._options import Host as Host
from ._options import HostType as HostType
from ._options import ReadPreferenceMode as ReadPreferenceMode
from ._options import ServerMonitoringMode as ServerMonitoringMode
from ._pool import Pool as Pool
from ._pool import create_pool as create_pool
from ._pool_events import CheckOutFailedReason as CheckOutFailedReason
from ._pool_events import ConnectionCheckedIn as ConnectionCheckedIn
from ._pool_events import ConnectionCheckedOut as ConnectionCheckedOut
from ._pool_events import ConnectionCheckOutFailed as ConnectionCheckOutFailed
from ._pool_events import ConnectionCheckOutStarted as ConnectionCheckOutStarted
from ._pool_events import ConnectionClosed as ConnectionClosed
from ._pool_events import ConnectionClosedReason as ConnectionClosedReason
from ._pool_events import ConnectionCreated as ConnectionCreated
from ._pool_events import ConnectionReady as ConnectionReady
from ._pool_events import PoolCleared as PoolCleared
from ._pool_events import PoolClosed as PoolClosed
from ._pool_events import PoolCreated as PoolCreated
from ._pool_events import PoolEvent as PoolEvent
from ._pool_events import PoolListener as PoolListener
from ._pool_events import PoolReady as PoolReady
from ._pool_types import ConnectionFactory as ConnectionFactory
from ._pool_types import PooledConnection as PooledConnection
from ._pool_types import PoolState as PoolState
from ._pool_types import PoolStatistics as PoolStatistics
from ._read_preference import PRIMARY as PRIMARY
from ._read_preference import ReadPreference as ReadPreference
from ._saslprep import SASLprepError as SASLprepError
from ._saslprep import saslprep as saslprep
from ._sdam_events import HeartbeatEvent as HeartbeatEvent
from ._sdam_events import SdamEvent as SdamEvent
from ._sdam_events import ServerClosed as ServerClosed
from ._sdam_events import ServerDescriptionChanged as ServerDescriptionChanged
from ._sdam_events import ServerHeartbeatFailed as ServerHeartbeatFailed
from ._sdam_events import ServerHeartbeatStarted as ServerHeartbeatStarted
from ._sdam_events import ServerHeartbeatSucceeded as ServerHeartbeatSucceeded
from ._sdam_events import ServerOpening as ServerOpening
from ._sdam_events import TopologyClosed as TopologyClosed
from ._sdam_events import TopologyDescriptionChanged as TopologyDescriptionChanged
from ._sdam_events import TopologyEvent as TopologyEvent
from ._sdam_events import TopologyListener as TopologyListener
from ._sdam_events import TopologyOpening as TopologyOpening
from ._selection import Operation as Operation
from ._selection import ServerSelector as ServerSelector
from ._selection import choose_server as choose_server
from ._selection import latency_window as latency_window
from ._selection import select_server as select_server
from ._selection import selection_timeout_error as selection_timeout_error
from ._selection import suitable_servers as suitable_servers
from ._server_description import MAX_SUPPORTED_WIRE_VERSION as MAX_SUPPORTED_WIRE_VERSION
from ._server_description import MIN_SUPPORTED_WIRE_VERSION as MIN_SUPPORTED_WIRE_VERSION
from ._server_description import ServerDescription as ServerDescription
from ._server_description import ServerType as ServerType
from ._server_description import TopologyVersion as TopologyVersion
from ._server_description import WireVersion as WireVersion
from ._server_description import average_round_trip_time as average_round_trip_time
from ._server_description import compare_topology_versions as compare_topology_versions
from ._server_description import unknown_server as unknown_server
from ._settings import DEFAULT_CONNECT_TIMEOUT_MS as DEFAULT_CONNECT_TIMEOUT_MS
from ._settings import ConnectionSettings as ConnectionSettings
from ._settings import PoolOptions as PoolOptions
from ._srv import DEFAULT_SRV_SERVICE_NAME as DEFAULT_SRV_SERVICE_NAME
from ._srv import DNSResolver as DNSResolver
from ._srv import SrvRecord as SrvRecord
from ._srv import apply_seedlist as apply_seedlist
from ._srv import resolve_srv as resolve_srv
from ._srv import srv_query_name as srv_query_name
from ._srv_polling import SrvPoller as SrvPoller
from ._srv_polling import polled_addresses as polled_addresses
from ._srv_polling import srv_polling_update as srv_polling_update
from ._tls import ssl_context_from_options as ssl_context_from_options
from ._topology import DEFAULT_SERVER_SELECTION_TIMEOUT_MS as DEFAULT_SERVER_SELECTION_TIMEOUT_MS
from ._topology import Topology as Topology
from ._topology import create_topology as create_topology
from ._topology_changes import TopologyChanges as TopologyChanges
from ._topology_changes import pool_ready as pool_ready
from ._topology_changes import topology_changes as topology_changes
from ._topology_description import TopologyDescription as TopologyDescription
from ._topology_description import TopologySettings as TopologySettings
from ._topology_description import TopologyType as TopologyType
from ._topology_description import initial_topology as initial_topology
from ._topology_description import update_topology as update_topology
from ._topology_types import PoolFactory as PoolFactory
from ._topology_types import ServerStatistics as ServerStatistics
from ._topology_types import TopologyState as TopologyState
from ._topology_types import TopologyStatistics as TopologyStatistics
from ._uri import from_addresses as from_addresses
from ._uri import parse_uri as parse_uri

__all__ = [
    "BACKPRESSURE_LABELS",
    "DEFAULT_CONNECT_TIMEOUT_MS",
    "DEFAULT_PORT",
    "DEFAULT_RESCAN_SRV_INTERVAL_MS",
    "DEFAULT_SERVER_SELECTION_TIMEOUT_MS",
    "DEFAULT_SRV_SERVICE_NAME",
    "DRIVER_NAME",
    "MAX_SUPPORTED_WIRE_VERSION",
    "MIN_SUPPORTED_WIRE_VERSION",
    "PERFORMED_MECHANISMS",
    "PRIMARY",
    "ApplicationError",
    "AuthMechanism",
    "AuthenticationError",
    "CheckOutFailedReason",
    "CheckReporter",
    "Checkout",
    "CommandError",
    "ConfigurationError",
    "ConflictingOptionsError",
    "Connection",
    "ConnectionCheckOutFailed",
    "ConnectionCheckOutStarted",
    "ConnectionCheckedIn",
    "ConnectionCheckedOut",
    "ConnectionClosed",
    "ConnectionClosedReason",
    "ConnectionCreated",
    "ConnectionFactory",
    "ConnectionFailure",
    "ConnectionOptions",
    "ConnectionReady",
    "ConnectionSettings",
    "ConnectionState",
    "ConnectionStringWarning",
    "Credential",
    "DNSResolver",
    "DeprecatedOptionWarning",
    "ErrorKind",
    "ErrorOutcome",
    "EventLoopMismatchError",
    "HandshakeResult",
    "HeartbeatEvent",
    "Host",
    "HostType",
    "IncompatibleServerError",
    "InvalidCredentialError",
    "InvalidOptionValueError",
    "InvalidOptionValueWarning",
    "InvalidReadPreferenceError",
    "InvalidURIError",
    "Monitor",
    "MonitorFactory",
    "MonitorSettings",
    "NetworkError",
    "NetworkTimeout",
    "Operation",
    "Pool",
    "PoolCleared",
    "PoolClearedError",
    "PoolClosed",
    "PoolClosedError",
    "PoolCreated",
    "PoolEvent",
    "PoolFactory",
    "PoolListener",
    "PoolOptions",
    "PoolReady",
    "PoolState",
    "PoolStatistics",
    "PooledConnection",
    "ReadPreference",
    "ReadPreferenceMode",
    "RepeatedOptionWarning",
    "RoundTripTimes",
    "SASLprepError",
    "SdamEvent",
    "SeedlistDiscoveryError",
    "Server",
    "ServerClosed",
    "ServerDescription",
    "ServerDescriptionChanged",
    "ServerHeartbeatFailed",
    "ServerHeartbeatStarted",
    "ServerHeartbeatSucceeded",
    "ServerMonitor",
    "ServerMonitoringMode",
    "ServerOpening",
    "ServerSelectionError",
    "ServerSelector",
    "ServerStatistics",
    "ServerType",
    "SrvPoller",
    "SrvRecord",
    "StateChangeCode",
    "TooManyConnections",
    "Topology",
    "TopologyChanges",
    "TopologyClosed",
    "TopologyClosedError",
    "TopologyDescription",
    "TopologyDescriptionChanged",
    "TopologyEvent",
    "TopologyListener",
    "TopologyOpening",
    "TopologySettings",
    "TopologyState",
    "TopologyStatistics",
    "TopologyType",
    "TopologyVersion",
    "UnknownOptionWarning",
    "UnsupportedOptionError",
    "WireVersion",
    "apply_seedlist",
    "as_application_error",
    "authenticate",
    "average_round_trip_time",
    "choose_mechanism",
    "choose_server",
    "client_metadata",
    "compare_topology_versions",
    "create_pool",
    "create_topology",
    "credential_from_options",
    "establishment_error_labels",
    "faas_platform",
    "from_addresses",
    "handle_application_error",
    "hello_command",
    "initial_topology",
    "is_not_writable_primary",
    "is_recovering",
    "is_shutting_down",
    "is_state_change_error",
    "latency_window",
    "normalize_address",
    "open_connection",
    "parse_handshake",
    "parse_hello",
    "parse_topology_version",
    "parse_uri",
    "polled_addresses",
    "pool_ready",
    "resolve_srv",
    "saslprep",
    "select_server",
    "selection_timeout_error",
    "speculative_start",
    "split_address",
    "srv_polling_update",
    "srv_query_name",
    "ssl_context_from_options",
    "suitable_servers",
    "topology_changes",
    "unknown_server",
    "update_topology",
]
