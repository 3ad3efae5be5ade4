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
"""

from __future__ import annotations

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
from ._errors import IncompatibleServerError as IncompatibleServerError
from ._errors import InvalidOptionValueError as InvalidOptionValueError
from ._errors import InvalidOptionValueWarning as InvalidOptionValueWarning
from ._errors import InvalidReadPreferenceError as InvalidReadPreferenceError
from ._errors import InvalidURIError as InvalidURIError
from ._errors import RepeatedOptionWarning as RepeatedOptionWarning
from ._errors import SeedlistDiscoveryError as SeedlistDiscoveryError
from ._errors import ServerSelectionError as ServerSelectionError
from ._errors import UnknownOptionWarning as UnknownOptionWarning
from ._errors import UnsupportedOptionError as UnsupportedOptionError
from ._hello import normalize_address as normalize_address
from ._hello import parse_hello as parse_hello
from ._hello import parse_topology_version as parse_topology_version
from ._options import DEFAULT_PORT as DEFAULT_PORT
from ._options import ConnectionOptions as ConnectionOptions
from ._options import Host as Host
from ._options import HostType as HostType
from ._options import ReadPreferenceMode as ReadPreferenceMode
from ._options import ServerMonitoringMode as ServerMonitoringMode
from ._read_preference import PRIMARY as PRIMARY
from ._read_preference import ReadPreference as ReadPreference
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
from ._srv import DEFAULT_SRV_SERVICE_NAME as DEFAULT_SRV_SERVICE_NAME
from ._srv import DNSResolver as DNSResolver
from ._srv import SrvRecord as SrvRecord
from ._srv import apply_seedlist as apply_seedlist
from ._srv import resolve_srv as resolve_srv
from ._srv import srv_query_name as srv_query_name
from ._topology_changes import TopologyChanges as TopologyChanges
from ._topology_changes import pool_ready as pool_ready
from ._topology_changes import topology_changes as topology_changes
from ._topology_description import TopologyDescription as TopologyDescription
from ._topology_description import TopologySettings as TopologySettings
from ._topology_description import TopologyType as TopologyType
from ._topology_description import initial_topology as initial_topology
from ._topology_description import update_topology as update_topology
from ._uri import from_addresses as from_addresses
from ._uri import parse_uri as parse_uri

__all__ = [
    "BACKPRESSURE_LABELS",
    "DEFAULT_PORT",
    "DEFAULT_SRV_SERVICE_NAME",
    "MAX_SUPPORTED_WIRE_VERSION",
    "MIN_SUPPORTED_WIRE_VERSION",
    "PRIMARY",
    "ApplicationError",
    "ConfigurationError",
    "ConflictingOptionsError",
    "ConnectionOptions",
    "ConnectionStringWarning",
    "DNSResolver",
    "DeprecatedOptionWarning",
    "ErrorKind",
    "ErrorOutcome",
    "Host",
    "HostType",
    "IncompatibleServerError",
    "InvalidOptionValueError",
    "InvalidOptionValueWarning",
    "InvalidReadPreferenceError",
    "InvalidURIError",
    "Operation",
    "ReadPreference",
    "ReadPreferenceMode",
    "RepeatedOptionWarning",
    "SeedlistDiscoveryError",
    "ServerDescription",
    "ServerMonitoringMode",
    "ServerSelectionError",
    "ServerSelector",
    "ServerType",
    "SrvRecord",
    "StateChangeCode",
    "TopologyChanges",
    "TopologyDescription",
    "TopologySettings",
    "TopologyType",
    "TopologyVersion",
    "UnknownOptionWarning",
    "UnsupportedOptionError",
    "WireVersion",
    "apply_seedlist",
    "average_round_trip_time",
    "choose_server",
    "compare_topology_versions",
    "establishment_error_labels",
    "from_addresses",
    "handle_application_error",
    "initial_topology",
    "is_not_writable_primary",
    "is_recovering",
    "is_shutting_down",
    "is_state_change_error",
    "latency_window",
    "normalize_address",
    "parse_hello",
    "parse_topology_version",
    "parse_uri",
    "pool_ready",
    "resolve_srv",
    "select_server",
    "selection_timeout_error",
    "srv_query_name",
    "suitable_servers",
    "topology_changes",
    "unknown_server",
    "update_topology",
]
