import base64
import io
import json
import re

import pytest

from drone_kit.errors import DroneKitError
from drone_kit.step.cards import card_document, card_escape_sequence, write_card
from drone_kit.step.results import read_result, result_path, write_result


def test_card_on_stdout_uses_the_runner_escape_sequence():
    out = io.StringIO()
    assert write_card("/dev/stdout", "image", {"digest": "sha256:abc"}, out)
    match = re.fullmatch(r"\x1b\]1338;([A-Za-z0-9+/=]+)\x1b\]0m\n", out.getvalue())
    assert match, repr(out.getvalue())
    document = json.loads(base64.b64decode(match.group(1)))
    assert document == card_document("image", {"digest": "sha256:abc"})
    assert document["data"] == {"digest": "sha256:abc"}
    assert document["schema"] == "https://drone-kit.invalid/cards/image.json"


def test_card_schema_points_at_the_served_templates():
    assert card_document("deploy", {}, "http://192.168.1.201/cards/")["schema"] == "http://192.168.1.201/cards/deploy.json"


@pytest.mark.parametrize("kind", ["image", "deploy", "verify"])
def test_every_card_kind_has_a_template(kind):
    from drone_kit.step.cards import card_template as template

    card = template(kind)
    assert card["type"] == "AdaptiveCard" and card["body"][0]["type"] == "TextBlock"
    assert template("nope") is None


def test_card_to_a_file_path_writes_json(tmp_path):
    path = tmp_path / "card.json"
    assert write_card(str(path), "deploy", {"outcome": "success"}, io.StringIO())
    assert json.loads(path.read_text()) == card_document("deploy", {"outcome": "success"})


def test_no_card_outside_drone():
    out = io.StringIO()
    assert not write_card("", "image", {}, out)
    assert out.getvalue() == ""


def test_escape_sequence_is_one_line():
    assert card_escape_sequence({"schema": "s", "data": {"text": "a\nb"}}).count("\n") == 1


def test_result_files_round_trip_and_leave_no_temporary_files(tmp_path):
    path = write_result(tmp_path, "image", {"repo": "r", "digest": "sha256:1"})
    assert path == result_path(tmp_path, "image") == tmp_path / ".drone-kit" / "image.json"
    assert read_result(tmp_path, "image") == {"repo": "r", "digest": "sha256:1"}
    write_result(tmp_path, "image", {"repo": "r2"})
    assert read_result(tmp_path, "image") == {"repo": "r2"}
    assert [p.name for p in (tmp_path / ".drone-kit").iterdir()] == ["image.json"]


def test_missing_result_is_none_and_a_corrupt_one_is_a_clear_error(tmp_path):
    assert read_result(tmp_path, "deploy") is None
    result_path(tmp_path, "deploy").parent.mkdir()
    result_path(tmp_path, "deploy").write_text("{half")
    with pytest.raises(DroneKitError, match=r"deploy.json is not valid JSON"):
        read_result(tmp_path, "deploy")
