import pytest

from drone_kit.images.reference import ImageRef, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, expected",
    [
        ("192.168.1.70:30500/our-task/nginx-demo:latest",
         ImageRef("192.168.1.70:30500", "our-task/nginx-demo", "latest")),
        ("127.0.0.1:5000/demo/web", ImageRef("127.0.0.1:5000", "demo/web")),
        (f"registry.lab/app@{DIGEST}", ImageRef("registry.lab", "app", None, DIGEST)),
        (f"registry.lab/app:v1@{DIGEST}", ImageRef("registry.lab", "app", "v1", DIGEST)),
        ("localhost/app:1.0", ImageRef("localhost", "app", "1.0")),
        ("nginx", ImageRef("docker.io", "library/nginx")),
        ("team/app:v2", ImageRef("docker.io", "team/app", "v2")),
        ("[::1]:5000/app", ImageRef("[::1]:5000", "app")),
    ],
)
def test_parse(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("127.0.0.1:5000/demo/Web:UP",
         "'demo/Web' is not a valid repository name (repository names must be lowercase)"),
        ("reg.lab/app:bad tag", "tag 'bad tag' is not valid"),
        ("reg.lab/app@sha256:xyz", "the digest must look like sha256:<64 hex digits>"),
        ("reg.lab/app:", "tag '' is not valid"),
        ("reg_lab:5000/app", "'reg_lab:5000' is not a valid registry host[:port]"),
    ],
)
def test_parse_errors_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as caught:
        parse_reference(text)
    assert message in str(caught.value)


def test_round_trip_and_replacements():
    ref = parse_reference("192.168.1.70:30500/our-task/nginx-demo:latest")
    assert str(ref) == "192.168.1.70:30500/our-task/nginx-demo:latest"
    assert str(ref.with_digest(DIGEST)) == f"192.168.1.70:30500/our-task/nginx-demo@{DIGEST}"
    assert str(ref.with_tag("abc")) == "192.168.1.70:30500/our-task/nginx-demo:abc"
    assert ref.name == "192.168.1.70:30500/our-task/nginx-demo"
