"""``dosetrail serve`` on the command line, and the package's locked public surface."""

from __future__ import annotations

from dosetrail import server
from dosetrail.server import client
from tests.conftest import Runner


def test_serve_has_help_and_refuses_bad_options(cli: Runner) -> None:
    code, out, _ = cli("serve", "--help")
    assert code == 0
    assert "--read-access" in out
    assert "--port" in out
    code, _, err = cli("serve", "--read-access", "everyone")
    assert code == 2
    assert "public or restricted" in err


def test_public_names_are_locked() -> None:
    assert sorted(server.__all__) == ["ServerSettings", "create_app"]
    assert sorted(client.__all__) == [
        "CAPTURE_SIGNATURE_HEADER",
        "capture_header",
        "sign_capture",
        "signed_headers",
    ]
