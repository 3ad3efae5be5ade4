"""The pytest plugin, as a downstream project meets it: a small test suite run
by pytester that uses ``fakemongo_server``, ``fakemongo_uri`` and
``fakemongo_database`` with PyMongo, and only them."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM_SUITE = """
from pymongo import MongoClient

seen = []


def test_first(fakemongo_server, fakemongo_uri, fakemongo_database):
    assert fakemongo_uri == f"mongodb://{fakemongo_server.address}/{fakemongo_database}"
    with MongoClient(fakemongo_uri) as client:
        db = client.get_default_database()
        assert db.name == fakemongo_database
        db.c.insert_many([{"_id": i} for i in range(5)])
        # Cursors left open: the fixture's drop must close this database's
        # and leave the others' alone.
        db.command("find", "c", batchSize=1)
        client.elsewhere.c.insert_many([{"_id": i} for i in range(5)])
        client.elsewhere.command("find", "c", batchSize=1)
    seen.append(fakemongo_database)


def test_second(fakemongo_server, fakemongo_uri, fakemongo_database):
    assert fakemongo_database not in seen  # a fresh database for each test
    cursors = fakemongo_server.call(
        lambda: sorted(c.namespace for c in fakemongo_server.server.state.cursors.cursors.values())
    )
    assert cursors == ["elsewhere.c"]
    with MongoClient(fakemongo_uri) as client:
        assert client.get_default_database().c.count_documents({}) == 0
        names = client.list_database_names()
        assert seen[0] not in names  # the previous test's database was dropped
        assert "elsewhere" in names
        client.drop_database("elsewhere")
"""


@pytest.fixture(autouse=True)
def _downstream_config(pytester: pytest.Pytester) -> None:
    # A downstream project's own settings; pytest-asyncio is installed here.
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )


def test_downstream_suite_uses_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM_SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_the_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(
        [
            "fakemongo_server* -- *pytest_plugin.py*",
            "*A fakemongo server for the whole session, on a free port.",
            "fakemongo_database -- *pytest_plugin.py*",
            "*A database name no other test uses; dropped when the test ends.",
            "fakemongo_uri -- *pytest_plugin.py*",
            "*A connection string to the session's server, defaulting to a fresh database.",
        ]
    )
