"""Forged QR payloads are never accepted: the seeded CI sample of bench/forgery.py (which
tries 10,000 and reports accepted/total by kind), with that bench's own forgers."""

from __future__ import annotations

import collections
import random

import pytest

from bench.forgery import EXTRA, KINDS, Keys, attempt, genuine


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    """Three keys: retired, compromised since 2023-01-01, in service (bench/forgery.py)."""
    return Keys.create(tmp_path_factory.mktemp("forgery"))


@pytest.fixture(scope="module")
def texts(keys) -> list[str]:
    rng = random.Random(11)
    texts = [genuine(keys, rng) for _ in range(100)]
    assert all(keys.verify(text).valid for text in texts)
    return texts


def _outcomes(keys, texts, kinds, count, seed):
    """{kind: Counter of (outcome, answer)} for `count` forgeries of each kind."""
    rng = random.Random(seed)
    found: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, forger in kinds.items():
        tried = 0
        while tried < count:
            _variant, outcome, answer = attempt(keys, forger, rng, rng.choice(texts))
            if outcome != "unchanged":
                found[name][outcome, answer] += 1
                tried += 1
    return found


def test_no_forgery_of_any_kind_is_accepted(keys, texts):
    """1,001 forgeries: 143 of each of the seven kinds."""
    found = _outcomes(keys, texts, KINDS, 143, seed=20261123)
    assert set(found) == set(KINDS)
    accepted = {k: sum(n for (o, _), n in c.items() if o != "refused") for k, c in found.items()}
    assert accepted == dict.fromkeys(KINDS, 0), {k: found[k] for k in found if accepted[k]}
    # Refused for the right reason where there is one right reason.
    assert set(found["expired certificate"]) == {("refused", "expired: the certificate expired")}
    assert {a.split(";")[0] for _, a in found["compromised key"]} == {
        "invalid: key … was compromised"
    }
    assert {a for _, a in found["changed claim, old signature"]} == {
        "invalid: the signature does not match: forged or altered"
    }


def test_no_forgery_beyond_the_issues_list_is_accepted(keys, texts):
    """Bytes appended after the message; the unsigned header used (both verified before)."""
    found = _outcomes(keys, texts, EXTRA, 100, seed=5)
    for kind, outcomes in found.items():
        assert set(outcomes) == {
            ("refused", "invalid: not a signed certificate payload (altered encoding)")
        }, kind
