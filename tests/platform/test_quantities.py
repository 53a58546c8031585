"""Kubernetes quantities: exact values, and the form the API server stores (checked against
resource.Quantity's CanonicalizeBytes: the largest unit of the quantity's own kind that leaves a
whole number; a binary amount under 1Ki or not a whole number of bytes is written in decimal)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drone_kit.platform.quantities import canonical, is_quantity, parse


@pytest.mark.parametrize(("text", "value"), [
    ("250m", Fraction(1, 4)), ("128Mi", 128 * 2**20), ("1e3", 1000), ("1.5Gi", 3 * 2**29), ("2", 2),
    ("0.1", Fraction(1, 10)), ("100n", Fraction(1, 10**7)), ("1E", 10**18), ("-1k", -1000), (3, 3),
])
def test_a_quantity_parses_to_its_exact_value(text, value):
    assert parse(text) == value


@pytest.mark.parametrize("text", ["", "Mi", "1 Gi", "1GB", "1gi", "1.2.3", "one", "1e", "1Mii"])
def test_what_is_not_a_quantity_is_refused_by_name(text):
    assert not is_quantity(text)
    with pytest.raises(ValueError, match=f"not a Kubernetes quantity: {text!r}"):
        parse(text)


@pytest.mark.parametrize(("text", "stored"), [
    ("1000m", "1"), ("0.5", "500m"), ("1500m", "1500m"), ("2000", "2k"), ("1000k", "1M"), ("0.1", "100m"),
    ("1024Mi", "1Gi"), ("2048Ki", "2Mi"), ("1.5Gi", "1536Mi"), ("0.5Ki", "512"), ("1Ki", "1Ki"),
    ("1073741824", "1073741824"), ("12e6", "12e6"), ("1000e0", "1e3"), ("0", "0"), ("0Mi", "0"),
    ("192Mi", "192Mi"), ("50m", "50m"), ("10Gi", "10Gi"), ("1", "1"),
])
def test_the_canonical_form_is_the_one_the_api_server_stores(text, stored):
    assert canonical(text) == stored


amounts = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**7),
              st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi"])),
    st.builds(lambda n, d, unit: f"{n}.{d}{unit}", st.integers(0, 9999), st.integers(0, 999),
              st.sampled_from(["", "k", "Mi", "Gi"])))


@given(amounts)
def test_the_canonical_form_keeps_the_value_and_is_its_own_canonical_form(text):
    stored = canonical(text)
    assert parse(stored) == parse(text)
    assert canonical(stored) == stored
