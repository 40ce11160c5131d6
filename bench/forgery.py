"""Benchmark: forged QR payloads, none accepted as valid (ISSUE: 2).

    .venv/bin/python bench/forgery.py [--count 10000] [--genuine 1000] [--extra 500] [--seed 1]
                                      [--smoke]

A key set with three keys, as a registry has after two rotations and one compromise:
key 1 in service 2015-01-01 to 2020-01-01 (retired), key 2 from 2020-01-01 to 2024-06-01
and marked compromised since 2023-01-01 (`kaseru keys compromise KID --since 2023-01-01`),
key 3 in service since 2024-06-01. Genuine payloads are signed by a key in its service
(before key 2's compromise), each with its own numbers, owner, kind and floor, and every
one verifies as valid on 2026-11-23. Then `count` forgeries, in turn of each kind:

- bit flips: 1 to 3 random bits of the decoded COSE_Sign1 bytes, encoded again in base32;
- truncation: the decoded bytes or the base32 text cut at a random length;
- a changed claim re-encoded without a new signature (floor, valid_until, owner sequence,
  number, issue number; and kind, valid_from, signing date, owner hash);
- a swapped key id: the protected header names another key of the set;
- a key the registry does not know: signed by a stranger's key, under a new key id or
  under the id of one of the registry's keys;
- an expired certificate: genuinely signed, valid_until in the past (the right answer is
  status "expired", not valid);
- a compromised key: signed by key 2 on a day from its compromise to its retirement.

Every one goes through signing.payload.verify, the check `kaseru verify qr` runs; a
verdict with valid True is an accepted forgery, and an exception is counted as a crash.
A second table tries what the issue does not list: bytes appended to a genuine message,
something other than an empty map in the unprotected header, and key 2 signing with a
date before its compromise (a limit of `--since`, shown apart). --smoke is `make
bench-smoke`'s tiny run: 70 forgeries (10 of each kind) of 20 genuine payloads, 10 of each
extra kind.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing import payload
from signing.keyring import Keyring

TODAY = dt.date(2026, 11, 23)
FIRST, SECOND, THIRD = dt.date(2015, 1, 1), dt.date(2020, 1, 1), dt.date(2024, 6, 1)
COMPROMISED_SINCE = dt.date(2023, 1, 1)
OWNERS = ["山本 一郎", "佐藤 花子", "鈴木 健", "高橋 美咲", "森 陽介"]


@dataclass
class Keys:
    """The key set and the private halves of its keys."""

    ring: Keyring
    old: str
    compromised: str
    active: str
    private: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    strangers: list[Ed25519PrivateKey] = field(default_factory=list)

    @classmethod
    def create(cls, folder: Path) -> Keys:
        ring = Keyring.create(folder, FIRST)
        old = ring.active()[0].kid
        compromised = ring.rotate(SECOND).kid
        active = ring.rotate(THIRD).kid
        ring.compromise(compromised, COMPROMISED_SINCE)
        keys = cls(Keyring.load(Keyring.path(folder)), old, compromised, active)
        for kid in (old, compromised, active):
            pem = (folder / f"qr-{kid}.pem").read_bytes()
            private = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(private, Ed25519PrivateKey)
            keys.private[kid] = private
        keys.strangers = [Ed25519PrivateKey.generate() for _ in range(8)]
        return keys

    def sign(self, claims: payload.Claims, kid: str) -> str:
        return payload.sign(claims, bytes.fromhex(kid), self.private[kid])

    def verify(self, text: str, today: dt.date = TODAY) -> payload.Verdict:
        return payload.verify(text, self.ring, today)


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def random_claims(rng: random.Random, signed_on: dt.date) -> payload.Claims:
    """A certificate's claims, different each call, valid until after TODAY."""
    kind = rng.choice(["standard", "fixed_floor", "option"])
    valid_from = _day(rng, dt.date(2010, 1, 1), signed_on)
    years = 50 if kind != "option" else rng.choice([25, 50])
    return payload.Claims(
        number=f"{rng.choice('AB')}{rng.randrange(10**18, 10**19):019d}",
        issue_number=f"{rng.randrange(1, 10**10):010d}",
        owner_sequence=rng.randint(1, 4),
        kind=kind,
        floor=rng.randrange(30_000, 70_001, 1000) if kind == "fixed_floor" else None,
        valid_from=valid_from,
        valid_until=valid_from + dt.timedelta(days=365 * years + years // 4 - 1),
        issued_on=valid_from + dt.timedelta(days=rng.randint(0, 60)),
        signed_on=signed_on,
        owner_hash=payload.owner_hash(rng.randbytes(16), rng.choice(OWNERS)),
    )


def genuine(keys: Keys, rng: random.Random) -> str:
    """A genuine payload, signed by a key within its service and before any compromise."""
    kid, first, last = rng.choice(
        [
            (keys.old, FIRST, SECOND),
            (keys.compromised, SECOND, COMPROMISED_SINCE - dt.timedelta(days=1)),
            (keys.active, THIRD, TODAY),
        ]
    )
    return keys.sign(random_claims(rng, _day(rng, first, last)), kid)


# ---- the message's parts ----------------------------------------------------------------


def decode(text: str) -> bytes:
    return payload.b32decode(text)


def encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def parts(text: str) -> tuple[bytes, Any, bytes, bytes]:
    """protected, unprotected, payload, signature of a genuine message."""
    protected, unprotected, body, signature = cbor2.loads(decode(text)).value
    return protected, unprotected, body, signature


def assemble(protected: bytes, unprotected: Any, body: bytes, signature: bytes) -> str:
    return encode(
        cbor2.dumps(
            cbor2.CBORTag(payload.COSE_SIGN1_TAG, [protected, unprotected, body, signature])
        )
    )


# ---- forgeries: each takes the keys, a random source and a genuine payload, and returns
# its variant's name and the forged text ---------------------------------------------------

Forger = Callable[[Keys, random.Random, str], tuple[str, str]]


def flip_bits(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    raw = bytearray(decode(text))
    count = rng.randint(1, 3)
    for bit in rng.sample(range(8 * len(raw)), count):
        raw[bit // 8] ^= 0x80 >> (bit % 8)
    return f"{count} bit{'s' if count > 1 else ''}", encode(bytes(raw))


def truncate(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    if rng.random() < 0.5:
        raw = decode(text)
        return "decoded bytes cut", encode(raw[: rng.randrange(1, len(raw))])
    return "base32 text cut", text[: rng.randrange(1, len(text))]


CLAIM_FIELDS = {
    "floor": 5,
    "valid_until": 7,
    "owner_sequence": 3,
    "number": 1,
    "issue_number": 2,
    "kind": 4,
    "valid_from": 6,
    "signed_on": 10,
    "owner_hash": 9,
}


def change_claim(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """One claim changed in the signed payload, the old signature kept."""
    protected, unprotected, body, signature = parts(text)
    data = dict(cbor2.loads(body))
    name = rng.choice(list(CLAIM_FIELDS))
    key = CLAIM_FIELDS[name]
    if name == "floor":
        data[5] = data.get(5, 0) + rng.choice([1000, 5000, 25_000])
    elif name == "number":
        if rng.random() < 0.5:
            data[11] = 1 - data[11]  # the other series letter
        else:
            data[1] = (data[1] + rng.randint(1, 10**6)) % 10**19
    elif name == "kind":
        data[4] = rng.choice([k for k in (1, 2, 3) if k != data[4]])
    elif name == "owner_hash":
        data[9] = rng.randbytes(8)
    elif name == "owner_sequence":
        data[3] += rng.randint(1, 3)
    else:  # days or an issue number: later or earlier
        data[key] += rng.choice([-1, 1]) * rng.randint(1, 20_000)
    return name, assemble(protected, unprotected, cbor2.dumps(data), signature)


def swap_kid(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """The protected header names another key of the set; the signature is kept."""
    protected, unprotected, body, signature = parts(text)
    header = dict(cbor2.loads(protected))
    kid = header[4].hex()
    other = rng.choice([k for k in (keys.old, keys.compromised, keys.active) if k != kid])
    header[4] = bytes.fromhex(other)
    return "another key's id", assemble(cbor2.dumps(header), unprotected, body, signature)


def unknown_key(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """The genuine claims signed again by a stranger's key."""
    claims = payload.Claims.from_cbor(parts(text)[2])
    stranger = rng.choice(keys.strangers)
    if rng.random() < 0.5:
        kid = rng.randbytes(2)
        while kid.hex() in keys.ring.keys:
            kid = rng.randbytes(2)
        return "a new key id", payload.sign(claims, kid, stranger)
    kid = bytes.fromhex(rng.choice([keys.old, keys.compromised, keys.active]))
    return "a registry key's id", payload.sign(claims, kid, stranger)


def expired(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """Genuinely signed by the key in service, valid until a day in the past."""
    claims = payload.Claims.from_cbor(parts(text)[2])
    until = TODAY - dt.timedelta(days=rng.randint(1, 7300))
    claims = replace(
        claims,
        valid_until=until,
        valid_from=min(claims.valid_from, until),
        signed_on=_day(rng, THIRD, TODAY),
    )
    return "valid_until in the past", keys.sign(claims, keys.active)


def compromised(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """Signed by key 2 on a day from its compromise to the end of its service."""
    claims = payload.Claims.from_cbor(parts(text)[2])
    claims = replace(claims, signed_on=_day(rng, COMPROMISED_SINCE, THIRD))
    return "signed after the compromise", keys.sign(claims, keys.compromised)


KINDS: dict[str, Forger] = {
    "bit flips": flip_bits,
    "truncation": truncate,
    "changed claim, old signature": change_claim,
    "swapped key id": swap_kid,
    "unknown key": unknown_key,
    "expired certificate": expired,
    "compromised key": compromised,
}


# ---- beyond the issue's list ---------------------------------------------------------------


def appended(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    return "bytes after the message", encode(decode(text) + rng.randbytes(rng.randint(1, 4)))


def unprotected_header(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    protected, _, body, signature = parts(text)
    variant, value = rng.choice(
        [
            ("an array", []),
            ("a kid", {4: cbor2.loads(protected)[4]}),
            ("an integer", -1),
            ("a simple value", cbor2.CBORSimpleValue(0)),
        ]
    )
    return f"unprotected header: {variant}", assemble(protected, value, body, signature)


def backdated(keys: Keys, rng: random.Random, text: str) -> tuple[str, str]:
    """What a thief holding key 2 can sign: any claims, dated before the compromise."""
    claims = payload.Claims.from_cbor(parts(text)[2])
    claims = replace(claims, signed_on=_day(rng, SECOND, COMPROMISED_SINCE - dt.timedelta(1)))
    return "signing date before --since", keys.sign(claims, keys.compromised)


EXTRA: dict[str, Forger] = {
    "appended bytes": appended,
    "unprotected header used": unprotected_header,
}
LIMITS: dict[str, Forger] = {"compromised key, backdated": backdated}


# ---- the run -------------------------------------------------------------------------------


@dataclass
class Row:
    total: int = 0
    accepted: int = 0
    crashed: int = 0
    answers: collections.Counter[str] = field(default_factory=collections.Counter)


def attempt(keys: Keys, forger: Forger, rng: random.Random, text: str) -> tuple[str, str, str]:
    """(variant, outcome, answer): outcome accepted, refused or crashed."""
    variant, forged = forger(keys, rng, text)
    if forged == text:
        return variant, "unchanged", ""
    try:
        verdict = keys.verify(forged)
    except Exception as error:
        return variant, "crashed", type(error).__name__
    answer = re.sub(r"key [0-9a-f]{4}", "key …", f"{verdict.status}: {verdict.reason}")
    answer = re.sub(r" (on|after) \d{4}-\d\d-\d\d", "", answer)
    return variant, "accepted" if verdict.valid else "refused", answer


def run(
    keys: Keys, kinds: dict[str, Forger], count: int, rng: random.Random, texts: list[str]
) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = collections.defaultdict(Row)
    names = list(kinds)
    done = 0
    while done < count:
        name = names[done % len(names)]
        variant, outcome, answer = attempt(keys, kinds[name], rng, rng.choice(texts))
        if outcome == "unchanged":
            continue  # e.g. a cut at the full length: not a forgery, draw again
        row = rows[name, variant]
        row.total += 1
        row.accepted += outcome == "accepted"
        row.crashed += outcome == "crashed"
        row.answers[answer] += 1
        done += 1
    return rows


def print_table(rows: dict[tuple[str, str], Row]) -> tuple[int, int, int]:
    print(f"  {'kind':<29} {'variant':<34} {'accepted':>8} / {'total':<6} crashed  answers")
    totals = collections.Counter[str]()
    for kind in dict.fromkeys(k for k, _ in rows):
        variants = sorted(v for k, v in rows if k == kind)
        kind_total = Row()
        for variant in variants:
            row = rows[kind, variant]
            kind_total.total += row.total
            kind_total.accepted += row.accepted
            kind_total.crashed += row.crashed
            top = "; ".join(f"{n} {a!r}" for a, n in row.answers.most_common(2))
            more = len(row.answers) - 2
            print(
                f"  {kind:<29} {variant:<34} {row.accepted:>8} / {row.total:<6} "
                f"{row.crashed:>7}  {top}{f'; +{more} more' if more > 0 else ''}"
            )
        if len(variants) > 1:
            print(
                f"  {kind:<29} {'(all)':<34} {kind_total.accepted:>8} / {kind_total.total:<6} "
                f"{kind_total.crashed:>7}"
            )
        totals.update(
            total=kind_total.total, accepted=kind_total.accepted, crashed=kind_total.crashed
        )
    print(
        f"  {'all':<29} {'':<34} {totals['accepted']:>8} / {totals['total']:<6} "
        f"{totals['crashed']:>7}"
    )
    return totals["accepted"], totals["crashed"], totals["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--genuine", type=int, default=1000, help="genuine payloads to mutate")
    parser.add_argument("--extra", type=int, default=500, help="forgeries of each extra kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 70 forgeries")
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(count=10 * len(KINDS), genuine=20, extra=10)
        args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        keys = Keys.create(Path(folder))
        texts = [genuine(keys, rng) for _ in range(args.genuine)]
        valid = sum(keys.verify(t).valid for t in texts)
        print(
            f"genuine: {len(texts):,} payloads signed by the set's 3 keys (new each run) within "
            f"their service; {valid:,}/{len(texts):,} verify as valid on {TODAY} "
            f"(seed {args.seed})"
        )
        if valid != len(texts):
            raise SystemExit("a genuine payload does not verify: nothing to measure")
        start = time.perf_counter()
        print(f"\n{args.count:,} forgeries, the kinds in turn (accepted = verify says valid):")
        accepted, crashed, total = print_table(run(keys, KINDS, args.count, rng, texts))
        elapsed = time.perf_counter() - start
        print(f"\nbeyond the issue's list ({args.extra:,} of each; accepted = verify says valid):")
        extra_accepted, extra_crashed, _ = print_table(
            run(keys, EXTRA, args.extra * len(EXTRA), rng, texts)
        )
        print("\na limit of `kaseru keys compromise --since`, not counted above:")
        print_table(run(keys, LIMITS, args.extra, rng, texts))
        print(
            "  (whoever holds key 2 can write any signing date into what they sign; offline,\n"
            "  a date before --since cannot be told from a genuine one. Without --since every\n"
            "  signature of the key is refused.)"
        )
        print(
            f"\naccepted {accepted:,}/{total:,} forgeries of the issue's kinds, "
            f"{crashed} crashed ({elapsed:.1f} s with generation, "
            f"{total / elapsed:,.0f} forgeries/s)"
        )
    if accepted or crashed or extra_accepted or extra_crashed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
