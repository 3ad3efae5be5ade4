"""mongotor.pool: connection strings, connections, pooling, discovery, server selection.

Configuration comes first: :func:`parse_uri` turns a ``mongodb://`` or
``mongodb+srv://`` connection string into immutable :class:`ConnectionOptions`
(and :func:`from_addresses` does the same for the 2012 library's
``addresses, dbname`` form); :func:`resolve_srv` performs ``mongodb+srv://``
seedlist discovery at first use, and :func:`apply_seedlist` is its pure core.
"""

from __future__ import annotations

from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConflictingOptionsError as ConflictingOptionsError
from ._errors import ConnectionStringWarning as ConnectionStringWarning
from ._errors import DeprecatedOptionWarning as DeprecatedOptionWarning
from ._errors import InvalidOptionValueError as InvalidOptionValueError
from ._errors import InvalidOptionValueWarning as InvalidOptionValueWarning
from ._errors import InvalidURIError as InvalidURIError
from ._errors import RepeatedOptionWarning as RepeatedOptionWarning
from ._errors import SeedlistDiscoveryError as SeedlistDiscoveryError
from ._errors import UnknownOptionWarning as UnknownOptionWarning
from ._errors import UnsupportedOptionError as UnsupportedOptionError
from ._options import DEFAULT_PORT as DEFAULT_PORT
from ._options import ConnectionOptions as ConnectionOptions
from ._options import Host as Host
from ._options import HostType as HostType
from ._options import ReadPreferenceMode as ReadPreferenceMode
from ._options import ServerMonitoringMode as ServerMonitoringMode
from ._srv import DEFAULT_SRV_SERVICE_NAME as DEFAULT_SRV_SERVICE_NAME
from ._srv import DNSResolver as DNSResolver
from ._srv import SrvRecord as SrvRecord
from ._srv import apply_seedlist as apply_seedlist
from ._srv import resolve_srv as resolve_srv
from ._srv import srv_query_name as srv_query_name
from ._uri import from_addresses as from_addresses
from ._uri import parse_uri as parse_uri

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_SRV_SERVICE_NAME",
    "ConfigurationError",
    "ConflictingOptionsError",
    "ConnectionOptions",
    "ConnectionStringWarning",
    "DNSResolver",
    "DeprecatedOptionWarning",
    "Host",
    "HostType",
    "InvalidOptionValueError",
    "InvalidOptionValueWarning",
    "InvalidURIError",
    "ReadPreferenceMode",
    "RepeatedOptionWarning",
    "SeedlistDiscoveryError",
    "ServerMonitoringMode",
    "SrvRecord",
    "UnknownOptionWarning",
    "UnsupportedOptionError",
    "apply_seedlist",
    "from_addresses",
    "parse_uri",
    "resolve_srv",
    "srv_query_name",
]
