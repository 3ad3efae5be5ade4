"""Unit tests of the connection-string layer beyond the specifications' JSON:
the 2012 ``addresses, dbname`` form, secrecy of credentials, error and warning
fields, and the options the spec suites leave untested."""

from __future__ import annotations

import traceback
import warnings

import pytest

from mongotor.pool import (
    DEFAULT_PORT,
    ConfigurationError,
    ConflictingOptionsError,
    ConnectionOptions,
    ConnectionStringWarning,
    DeprecatedOptionWarning,
    Host,
    HostType,
    InvalidOptionValueError,
    InvalidOptionValueWarning,
    InvalidURIError,
    ReadPreferenceMode,
    RepeatedOptionWarning,
    ServerMonitoringMode,
    UnknownOptionWarning,
    UnsupportedOptionError,
    from_addresses,
    parse_uri,
)

SECRET = "Hunter2-s3cret"


# --------------------------------------------------------------- the 2012 form


def test_addresses_as_one_string_and_a_database() -> None:
    options = from_addresses("localhost:27017", "test")
    assert options.hosts == (Host("localhost", 27017, HostType.HOSTNAME),)
    assert options.database == "test"
    assert options == parse_uri("mongodb://localhost:27017/test")


def test_addresses_as_a_list_of_every_host_form() -> None:
    options = from_addresses(
        ["DB1.example.com:27018", "10.0.0.2", "[::1]:27019", "/tmp/mongodb-27017.sock"], "app"
    )
    assert options.hosts == (
        Host("db1.example.com", 27018, HostType.HOSTNAME),
        Host("10.0.0.2", None, HostType.IPV4),
        Host("::1", 27019, HostType.IP_LITERAL),
        Host("/tmp/mongodb-27017.sock", None, HostType.UNIX),
    )
    assert [str(host) for host in options.hosts] == [
        "db1.example.com:27018",
        "10.0.0.2:27017",
        "[::1]:27019",
        "/tmp/mongodb-27017.sock",
    ]


def test_addresses_take_connection_string_options_by_name() -> None:
    options = from_addresses(
        ["a:1", "b:2"],
        "test",
        maxPoolSize=10,
        replicaSet="rs0",
        retryWrites=False,
        readPreference="secondaryPreferred",
    )
    assert options.max_pool_size == 10
    assert options.replica_set == "rs0"
    assert options.retry_writes is False
    assert options.read_preference is ReadPreferenceMode.SECONDARY_PREFERRED
    assert options.tls is False
    assert options == parse_uri(
        "mongodb://a:1,b:2/test?maxPoolSize=10&replicaSet=rs0&retryWrites=false"
        "&readPreference=secondaryPreferred"
    )


def test_addresses_tls_explicit_and_implied() -> None:
    assert from_addresses("a", tls=True).tls is True
    assert from_addresses("a", tlsCAFile="ca.pem").tls is True
    assert from_addresses("a", tlsCAFile="ca.pem", tls=False).tls is False


def test_addresses_without_database() -> None:
    assert from_addresses("a").database is None
    assert from_addresses("a", "").database is None


def test_addresses_validate_like_a_connection_string() -> None:
    with pytest.raises(InvalidURIError, match="no address") as empty:
        from_addresses([])
    assert empty.value.component == "host"
    with pytest.raises(InvalidURIError, match="host 2 has an invalid port") as port:
        from_addresses(["a:1", "b:0"])
    assert (port.value.component, port.value.index) == ("host", 2)
    with pytest.raises(InvalidURIError, match="database"):
        from_addresses("a", "my db")
    with pytest.raises(ConflictingOptionsError):
        from_addresses(["a", "b"], directConnection=True)
    with pytest.warns(UnknownOptionWarning, match="maxconnections"):
        from_addresses("a", maxconnections=5)
    with pytest.raises(InvalidOptionValueError):
        from_addresses("a", strict=True, maxPoolSize=-1)


# --------------------------------------------------------------- secrecy


def _every_text(action: object) -> list[str]:
    """Everything a failure or success of ``action()`` could show a person."""
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()  # type: ignore[operator]
        except ConfigurationError as error:
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
            texts += [repr(vars(error))]
        else:
            texts += [repr(result), str(result)]
    texts += [str(w.message) for w in caught] + [repr(vars(w.message)) for w in caught]
    return texts


@pytest.mark.parametrize(
    "uri",
    [
        f"mongodb://alice:{SECRET}@example.com/admin",
        f"mongodb://{SECRET}:pw@example.com/admin",
        f"mongodb://alice:{SECRET}@example.com:99999/admin",
        f"mongodb://alice:{SECRET}@example.com/admin?connectTimeoutMS=x&bogus=1",
        f"mongodb://alice:{SECRET}@/admin",
        f"mongodb://alice:{SECRET}@example.com/admin?tlsCertificateKeyFilePassword={SECRET}",
        f"mongodb://example.com/?tlsCertificateKeyFilePassword={SECRET}&tlsCertificateKeyFilePassword={SECRET}",
        f"mongodb://example.com/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}",
        f"mongodb://alice:{SECRET}@%FF/admin",
        f"mongodb+srv://alice:{SECRET}@a.example.com:27017/admin",
    ],
)
def test_credentials_never_appear_in_reprs_errors_or_warnings(uri: str) -> None:
    texts = _every_text(lambda: parse_uri(uri))
    assert texts
    assert not [text for text in texts if SECRET in text]


def test_repr_redacts_credentials_and_names_what_is_hidden() -> None:
    options = parse_uri(
        f"mongodb://alice:{SECRET}@example.com/admin?tlsCertificateKeyFilePassword={SECRET}"
        f"&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET},SERVICE_NAME:svc"
        "&readPreference=nearest"
    )
    text = repr(options)
    assert "alice" not in text
    assert SECRET not in text
    assert "username='<redacted>'" in text
    assert "password='<redacted>'" in text
    assert "tls_certificate_key_file_password='<redacted>'" in text
    assert "'AWS_SESSION_TOKEN': '<redacted>'" in text
    assert "'SERVICE_NAME': 'svc'" in text
    assert "read_preference='nearest'" in text
    assert str(options) == text
    # The values themselves are there for the code that authenticates.
    assert (options.username, options.password) == ("alice", SECRET)
    assert options.tls_certificate_key_file_password == SECRET


def test_sensitive_values_are_redacted_in_error_and_warning_fields() -> None:
    with pytest.warns(InvalidOptionValueWarning) as caught:
        parse_uri("mongodb://h/?tlsCertificateKeyFilePassword=")
    warning = caught[0].message
    assert isinstance(warning, InvalidOptionValueWarning)
    assert (warning.option, warning.value) == ("tlsCertificateKeyFilePassword", "<redacted>")
    with pytest.warns(RepeatedOptionWarning) as repeated:
        parse_uri(
            f"mongodb://h/?tlsCertificateKeyFilePassword=a&TLSCertificateKeyFilePassword={SECRET}"
        )
    assert repeated[0].message.value == "<redacted>"  # type: ignore[union-attr]


def test_option_names_are_hidden_when_a_password_may_have_spilled_into_the_query() -> None:
    # An "@" after the host section: "pw" may be the tail of "user:x?pw@host".
    with pytest.warns(UnknownOptionWarning) as caught:
        options = parse_uri(f"mongodb://user?{SECRET}=1@localhost")
    warning = caught[0].message
    assert isinstance(warning, UnknownOptionWarning)
    assert (warning.option, warning.value) == (None, None)
    assert SECRET not in str(warning)
    assert options.hosts == (Host("user", None, HostType.HOSTNAME),)


def test_an_unencoded_at_sign_in_the_database_part_is_refused() -> None:
    with pytest.raises(InvalidURIError, match="unencoded '@'") as caught:
        parse_uri(f"mongodb://user:12345/{SECRET}@localhost")
    assert caught.value.component == "database"
    assert parse_uri("mongodb://h/a%40b").database == "a@b"


# --------------------------------------------------------------- errors and warnings


def test_errors_say_whose_fault_and_that_retrying_cannot_help() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_uri("mongodb://h/?tls=true&ssl=false")
    assert isinstance(caught.value, ConflictingOptionsError)
    assert (caught.value.option, caught.value.other) == ("tls", "ssl")
    assert caught.value.remote is False
    assert caught.value.retryable is False


def test_invalid_value_fields_when_strict() -> None:
    with pytest.raises(InvalidOptionValueError) as caught:
        parse_uri("mongodb://h/?MAXPOOLSIZE=lots", strict=True)
    error = caught.value
    assert (error.option, error.value) == ("maxPoolSize", "lots")
    assert error.expected == "an integer from 0 to 2147483647"
    assert "lots" not in str(error)


def test_invalid_value_warning_fields_and_the_option_is_ignored() -> None:
    with pytest.warns(InvalidOptionValueWarning, match="heartbeatFrequencyMS") as caught:
        options = parse_uri("mongodb://h/?heartbeatFrequencyMS=499")
    warning = caught[0].message
    assert isinstance(warning, InvalidOptionValueWarning)
    assert (warning.option, warning.value, warning.expected) == (
        "heartbeatFrequencyMS",
        "499",
        "an integer of at least 500",
    )
    assert options.heartbeat_frequency_ms is None


def test_empty_auth_source_is_an_error_even_when_not_strict() -> None:
    # The auth spec's connection-string tests require an error here.
    with pytest.raises(InvalidOptionValueError) as caught:
        parse_uri("mongodb://h/?authSource=")
    assert (caught.value.option, caught.value.value) == ("authSource", "")


@pytest.mark.parametrize(
    ("uri", "component", "index"),
    [
        ("http://h", "scheme", None),
        ("mongodb://h1,,h3", "host", 2),
        ("mongodb://h/%FF", "database", None),
        ("mongodb://h/?a=%FF", "options", 1),
        ("mongodb://h/?a=1&&b", "options", 3),
        ("mongodb://h/?=1", "options", 1),
        ("mongodb://%FF:pw@h", "userinfo", None),
        ("mongodb://us[er:pw@h", "userinfo", None),
        ("mongodb://:pw@h", "userinfo", None),
        ("mongodb://@h", "userinfo", None),
        ("mongodb://h,[::1", "host", 2),
        ("mongodb://[::1]x", "host", 1),
        ("mongodb://[not-v6]:1", "host", 1),
        ("mongodb://[%FF]", "host", 1),
        ("mongodb://%FF", "host", 1),
        ("mongodb://%2Ftmp%2Fmongodb", "host", 1),
        ("mongodb://exa%20mple.com", "host", 1),
        ("mongodb://:27017", "host", 1),
        ("mongodb://h:\uff11\uff12", "host", 1),  # fullwidth digits
        ("mongodb+srv://127.0.0.1", "host", 1),
        ("mongodb+srv://%2Ftmp%2Fm.sock", "host", 1),
        ("mongodb+srv://[::1]", "host", 1),
        ('mongodb://h/a"b', "database", None),
    ],
)
def test_malformed_strings_name_the_component(uri: str, component: str, index: int | None) -> None:
    with pytest.raises(InvalidURIError) as caught:
        parse_uri(uri)
    assert (caught.value.component, caught.value.index) == (component, index)
    assert caught.value.option is None


def test_unknown_option_warning_names_the_option_as_written() -> None:
    with pytest.warns(UnknownOptionWarning, match="'connectMS'") as caught:
        parse_uri("mongodb://h/?connectMS=5")
    assert (caught[0].message.option, caught[0].message.value) == ("connectMS", "5")  # type: ignore[union-attr]


def test_repeated_options_warn_and_the_last_wins_except_lists_and_tls() -> None:
    with pytest.warns(RepeatedOptionWarning, match="replicaSet"):
        assert parse_uri("mongodb://h/?replicaSet=a&REPLICASET=b").replica_set == "b"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        options = parse_uri(
            "mongodb://h/?readPreference=secondary&readPreferenceTags=a:1&readPreferenceTags="
            "&tls=true&ssl=true&tls=true"
        )
    assert options.read_preference_tags == ({"a": "1"}, {})
    assert options.tls is True


@pytest.mark.parametrize(
    ("query", "attribute", "value"),
    [
        ("wtimeout=5", "w_timeout_ms", 5),
        ("j=true", "journal", True),
        ("slaveOk=true", "read_preference", ReadPreferenceMode.SECONDARY_PREFERRED),
        ("slaveok=false", "read_preference", ReadPreferenceMode.PRIMARY),
    ],
)
def test_deprecated_names_still_work_with_a_warning(
    query: str, attribute: str, value: object
) -> None:
    with pytest.warns(DeprecatedOptionWarning) as caught:
        options = parse_uri(f"mongodb://h/?{query}")
    assert getattr(options, attribute) == value
    assert caught[0].message.replacement in ("wTimeoutMS", "journal", "readPreference")  # type: ignore[union-attr]


def test_a_deprecated_name_is_ignored_when_its_replacement_is_given() -> None:
    with pytest.warns(DeprecatedOptionWarning, match="ignored because readPreference"):
        options = parse_uri("mongodb://h/?slaveOk=true&readPreference=nearest")
    assert options.read_preference is ReadPreferenceMode.NEAREST


# --------------------------------------------------------------- option values


def test_every_option_in_one_string() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        options = parse_uri(
            "MongoDB://u:p%3A%40@h1,h2:27018/db.coll?appname=app&authMechanism=SCRAM-SHA-256"
            "&authMechanismProperties=SERVICE_NAME:x&authSource=admin&compressors=ZSTD,zlib"
            "&zlibCompressionLevel=-1&connectTimeoutMS=0&socketTimeoutMS=1"
            "&serverSelectionTimeoutMS=2&heartbeatFrequencyMS=500&localThresholdMS=3"
            "&timeoutMS=4&maxPoolSize=5&minPoolSize=5&maxConnecting=6&maxIdleTimeMS=7"
            "&waitQueueTimeoutMS=8&directConnection=false&replicaSet=rs"
            "&readPreference=secondary&readPreferenceTags=dc:ny&maxStalenessSeconds=-1"
            "&w=2&wTimeoutMS=9223372036854775807&journal=TRUE&readConcernLevel=local"
            "&retryReads=false&retryWrites=true&tlsAllowInvalidHostnames=true"
            "&tlsCAFile=ca.pem&tlsCertificateKeyFile=c.pem&serverMonitoringMode=poll"
            "&serverSelectionTryOnce=false&maxAdaptiveRetries=0&enableOverloadRetargeting=true"
        )
    assert (options.username, options.password, options.database) == ("u", "p:@", "db.coll")
    assert options.hosts == (
        Host("h1", None, HostType.HOSTNAME),
        Host("h2", 27018, HostType.HOSTNAME),
    )
    assert options.compressors == ("zstd", "zlib")
    assert options.w == 2
    assert options.w_timeout_ms == 2**63 - 1
    assert options.journal is True
    assert options.max_staleness_seconds == -1
    assert options.server_monitoring_mode is ServerMonitoringMode.POLL
    assert options.tls is True  # implied by tlsAllowInvalidHostnames / tlsCAFile
    assert options.auth_mechanism_properties == {"SERVICE_NAME": "x"}
    assert options.unsupported == ()
    options.check_supported()
    assert options.option("SSL") is True
    assert options.option("appName") == "app"
    assert not options.is_srv


@pytest.mark.parametrize(
    "query",
    [
        "maxStalenessSeconds=0",
        "maxStalenessSeconds=-2",
        "compressors=zlib,lz4",
        "readPreference=PRIMARY",
        "serverMonitoringMode=Stream",
        "authMechanism=scram-sha-1",
        "authMechanismProperties=SERVICE_NAME",
        "authMechanismProperties=:x",
        "srvServiceName=-bad",
        "maxPoolSize=1_000",
        "maxPoolSize= 5",
        "maxPoolSize=2147483648",
        "w=-1",
        "appname=" + "x" * 129,
        "readConcernLevel=",
    ],
)
def test_invalid_values_warn_and_are_ignored(query: str) -> None:
    uri = f"mongodb+srv://a.example.com/?{query}"
    with pytest.warns(InvalidOptionValueWarning):
        options = parse_uri(uri)
    name = query.partition("=")[0]
    assert options.option(name) is None
    with pytest.raises(InvalidOptionValueError) as caught:
        parse_uri(uri, strict=True)
    assert caught.value.option.lower() == name.lower()  # type: ignore[union-attr]


def test_srv_service_name_accepts_rfc6335_names_up_to_62_characters() -> None:
    name = "a" + "-b" * 30 + "c"
    assert len(name) == 62
    assert parse_uri(f"mongodb+srv://x.example.com/?srvServiceName={name}").srv_service_name == name
    with pytest.warns(InvalidOptionValueWarning):
        parse_uri(f"mongodb+srv://x.example.com/?srvServiceName={name}d")
    with pytest.warns(InvalidOptionValueWarning):
        parse_uri("mongodb+srv://x.example.com/?srvServiceName=123")


@pytest.mark.parametrize("suffix", [".", "com", ".cc.", "a..b"])
def test_a_suffix_of_fewer_than_two_labels_is_always_an_error(suffix: str) -> None:
    with pytest.raises(InvalidOptionValueError) as caught:
        parse_uri(f"mongodb+srv://x.example.com/?srvAllowedHostsSuffix={suffix}")
    assert caught.value.option == "srvAllowedHostsSuffix"


@pytest.mark.parametrize(
    ("query", "option", "other"),
    [
        ("readPreferenceTags=dc:ny", "readPreferenceTags", "readPreference"),
        ("readPreference=primary&maxStalenessSeconds=90", "maxStalenessSeconds", "readPreference"),
        ("minPoolSize=10&maxPoolSize=5", "minPoolSize", "maxPoolSize"),
        (
            "tlsInsecure=maybe&tlsAllowInvalidHostnames=true",
            "tlsInsecure",
            "tlsAllowInvalidHostnames",
        ),
    ],
)
def test_forbidden_combinations(query: str, option: str, other: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConnectionStringWarning)
        with pytest.raises(ConflictingOptionsError) as caught:
            parse_uri(f"mongodb://h/?{query}")
    assert (caught.value.option, caught.value.other) == (option, other)
    assert str(caught.value).startswith(option)


def test_allowed_combinations() -> None:
    assert parse_uri("mongodb://h/?readPreferenceTags=").read_preference_tags == ({},)
    assert parse_uri("mongodb://h/?maxStalenessSeconds=-1").max_staleness_seconds == -1
    assert parse_uri("mongodb://h/?minPoolSize=10&maxPoolSize=0").min_pool_size == 10


# --------------------------------------------------------------- the result type


def test_srv_strings_defer_their_hosts_to_discovery() -> None:
    options = parse_uri("mongodb+srv://Cluster0.Example.NET/db?tls=false")
    assert options.is_srv
    assert options.hosts == ()
    assert options.srv_host == "cluster0.example.net"
    assert options.tls is False
    assert parse_uri("mongodb+srv://cluster0.example.net").tls is True


def test_unsupported_options_are_recorded_and_refused_on_request() -> None:
    options = parse_uri("mongodb://h/?loadBalanced=true&serverSelectionTryOnce=true")
    assert options.unsupported == ("loadBalanced", "serverSelectionTryOnce")
    with pytest.raises(UnsupportedOptionError, match="loadBalanced") as caught:
        options.check_supported()
    assert (caught.value.option, caught.value.value) == ("loadBalanced", "true")
    parse_uri("mongodb://h/?loadBalanced=false").check_supported()


def test_option_lookup_by_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        parse_uri("mongodb://h").option("noSuchOption")


def test_hosts_and_their_default_port() -> None:
    assert Host("h", None, HostType.HOSTNAME).effective_port == DEFAULT_PORT
    assert Host("/s.sock", None, HostType.UNIX).effective_port is None
    assert str(Host("fe80::1", 1, HostType.IP_LITERAL)) == "[fe80::1]:1"


def test_options_are_immutable_hashable_and_compare_by_value() -> None:
    uri = "mongodb://h/?readPreference=secondary&readPreferenceTags=a:1&authMechanismProperties=K:v"
    first, second = parse_uri(uri), parse_uri(uri)
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.max_pool_size = 3  # type: ignore[misc]
    tags = first.read_preference_tags
    assert tags is not None
    assert tags[0] == {"a": "1"}
    assert tags[0] != ["a"]  # type: ignore[comparison-overlap]
    assert repr(tags[0]) == "{'a': '1'}"
    assert len(tags[0]) == 1
    assert isinstance(first, ConnectionOptions)
