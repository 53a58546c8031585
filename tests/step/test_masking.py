import io

import pytest

from drone_kit.step.masking import MASK, Masker, MaskingStream


def test_masks_every_secret_longest_first():
    masker = Masker(["s3cret", "s3cret-and-more"])
    assert masker.mask("a s3cret-and-more b s3cret") == f"a {MASK} b {MASK}"


def test_multi_line_secret_is_masked_line_by_line():
    kubeconfig = "apiVersion: v1\nclient-key-data: QUJDREVGRw==\n"
    masker = Masker([kubeconfig])
    assert "QUJDREVGRw==" not in masker.mask("leaked client-key-data: QUJDREVGRw== here")


@pytest.mark.parametrize(
    "pieces",
    [
        ["pass", "word\n"],
        ["p", "a", "s", "s", "w", "o", "r", "d", "\n"],
        ["xx pa", "ssw", "ord yy"],
    ],
)
def test_a_secret_written_in_pieces_is_still_masked_even_across_flushes(pieces):
    target = io.StringIO()
    stream = MaskingStream(target, Masker(["password"]))
    for piece in pieces:
        stream.write(piece)
        stream.flush()
    stream.close_pending()
    assert "password" not in target.getvalue()
    assert MASK in target.getvalue()


def test_flush_passes_on_text_that_cannot_start_a_secret():
    target = io.StringIO()
    stream = MaskingStream(target, Masker(["password"]))
    stream.write("progress 50% ")
    stream.flush()
    assert target.getvalue() == "progress 50% "
