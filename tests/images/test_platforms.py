import json

import pytest

from drone_kit.images.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    sha256_digest,
)
from drone_kit.images.platforms import Platform, image_index, image_platform, parse_platform


@pytest.mark.parametrize(
    "text, expected, suffix",
    [("linux/amd64", Platform("linux", "amd64"), "linux-amd64"),
     ("linux/arm/v7", Platform("linux", "arm", "v7"), "linux-arm-v7"),
     (" linux/arm64 ", Platform("linux", "arm64"), "linux-arm64")],
)
def test_parse_platform(text, expected, suffix):
    assert parse_platform(text) == expected
    assert expected.tag_suffix == suffix and str(parse_platform(str(expected))) == str(expected)


@pytest.mark.parametrize("text", ["arm64", "linux/", "Linux/AMD64", "linux/arm/7"])
def test_bad_platforms(text):
    with pytest.raises(ValueError, match="is not a platform like linux/amd64"):
        parse_platform(text)


def child(media_type, body):
    return Manifest(media_type, sha256_digest(body), body)


def test_index_of_docker_manifests_is_a_manifest_list():
    amd, arm = child(DOCKER_MANIFEST, b'{"a":1}'), child(DOCKER_MANIFEST, b'{"b":22}')
    index = image_index([(Platform("linux", "amd64"), amd), (Platform("linux", "arm", "v7"), arm)])
    body = json.loads(index.body)
    assert index.media_type == DOCKER_MANIFEST_LIST == body["mediaType"]
    assert index.digest == sha256_digest(index.body)
    assert body["manifests"] == [
        {"mediaType": DOCKER_MANIFEST, "size": 7, "digest": amd.digest,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": DOCKER_MANIFEST, "size": 8, "digest": arm.digest,
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    ]


def test_index_of_oci_manifests_is_an_oci_index():
    index = image_index([(Platform("linux", "amd64"), child(OCI_MANIFEST, b"{}"))])
    assert index.media_type == OCI_INDEX


def test_image_platform_from_inspect():
    assert image_platform({"Os": "linux", "Architecture": "arm64", "Variant": ""}) == Platform("linux", "arm64")
