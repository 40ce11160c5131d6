"""Typed verification verdicts (issue 14, point 6): every status and every cause has its
Japanese in one table (registry/verdicts.py), the page shows it by enum, the Japanese is
what the old lookup by English substring gave, and the JSON answers are byte for byte what
they were (the API tests pin them end to end; these pin the answers' own shape)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import pickle
import re
from enum import StrEnum
from pathlib import Path

import pytest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.serialization import encode_json

from registry import verdicts as V
from registry import verification
from signing.verdicts import NO_REASON, Cause, KeyState, OfflineStatus, Reason, fields

HTML = Path(__file__).resolve().parent.parent.parent / "templates" / "html"
CAUSES: list[StrEnum] = [*Cause, *V.RegistryCause]
DETAILS = {
    "algorithm": "-7",
    "kid": "0a0b",
    "since": "2020-01-01",
    "signed_on": dt.date(2026, 11, 1),
    "valid_until": dt.date(2065, 10, 16),
    "error": "PdfReadError",
    "problem": "the signature's byte range is malformed",
    "found": 2,
    "number": "A0020000012015000003",
    "issue_number": "0000021309",
    "printed": "no number",
}
"""A value for every detail any cause takes (test_every_detail_has_a_sample keeps it so)."""


def rendered(cause: StrEnum) -> Reason:
    """The cause as a reason, its details filled from DETAILS."""
    return Reason(cause, **{name: DETAILS[name] for name in fields(cause.value)})


# ---- one table, complete, nothing orphaned ------------------------------------------------


def test_every_cause_has_japanese_and_no_text_is_orphaned():
    assert list(V.REASONS_JA) == CAUSES  # each member once, in the enums' order, nothing else
    assert all(type(key) in (Cause, V.RegistryCause) for key in V.REASONS_JA)


def test_every_status_has_a_label_and_a_message_and_nothing_else():
    assert list(V.STATUS_JA) == list(V.Status)
    assert all(type(key) is V.Status for key in V.STATUS_JA)
    labels = [wording.label for wording in V.STATUS_JA.values()]
    assert len(set(labels)) == len(labels)  # a buyer tells the statuses apart by the heading
    assert [s.label for s in V.Status] == labels


@pytest.mark.parametrize(
    "text",
    [*V.REASONS_JA.values(), *(t for w in V.STATUS_JA.values() for t in w)],
)
def test_every_text_is_japanese(text):
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text
    # No English left in (the fields of the superseded message and "QR" aside).
    assert not re.search(r"[A-Za-z]", re.sub(r"\{\w+\}|QR", "", text)), text


def test_every_detail_has_a_sample():
    assert set().union(*(fields(c.value) for c in CAUSES)) == set(DETAILS)


# ---- the Japanese is what the page showed before the enums -------------------------------

_OLD_TABLE = (
    ("cannot be decoded", "QRコードの内容を読み取れません。"),
    ("not a signed certificate payload", "証明書のQRコードではありません。"),
    ("forged or altered", "署名が一致しません。偽造または改ざんされています。"),
    ("does not know", "登録簿にない鍵で署名されています。"),
    ("compromised", "漏えいした鍵で署名されています。"),
    ("not in service", "鍵の使用期間外に署名されています。"),
    ("no such certificate", "登録簿にこの証明書はありません。"),
    ("does not match", "登録簿の記録と一致しません。"),
    ("changed after it was signed", "署名の後に文書が変更されています。"),
    ("did not issue", "機構が発行していない証明書で署名されています。"),
)


def _old_reason_ja(reason: str) -> str:
    """registry/verification.reason_ja as it was: the first key found in the English."""
    return next((ja for key, ja in _OLD_TABLE if key in reason), "登録簿で確認できませんでした。")


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.name)
def test_the_japanese_is_what_the_english_lookup_gave(cause):
    reason = rendered(cause)
    if cause is Cause.EXPIRED:
        # Never on the page: an expired payload is genuine, and the registry describes it.
        assert V.reason_ja(reason) == V.STATUS_JA[V.Status.EXPIRED].message
        assert _old_reason_ja(reason) == V.UNCONFIRMED
    else:
        assert V.reason_ja(reason) == _old_reason_ja(reason)


def test_a_reason_s_details_cannot_choose_its_japanese():
    """Found while typing the verdicts: a forged header's algorithm is printed in the reason,
    and the English lookup took a phrase in it for the reason's kind."""
    reason = Reason(Cause.UNSUPPORTED_ALGORITHM, algorithm="'forged or altered'")
    assert _old_reason_ja(reason) == "署名が一致しません。偽造または改ざんされています。"
    assert V.reason_ja(reason) == V.UNCONFIRMED


def test_an_empty_reason_reads_as_unconfirmed():
    assert V.reason_ja(NO_REASON) == V.UNCONFIRMED


# ---- a reason is its English text, and knows its cause -----------------------------------


def test_a_reason_renders_its_details_and_equals_its_text():
    reason = Reason(Cause.KEY_OUT_OF_SERVICE, kid="0a0b", signed_on=dt.date(2026, 11, 1))
    assert reason == "key 0a0b was not in service on 2026-11-01"
    assert type(str(reason)) is str and str(reason) == reason
    assert (reason.cause, dict(reason.details)) == (
        Cause.KEY_OUT_OF_SERVICE,
        {"kid": "0a0b", "signed_on": dt.date(2026, 11, 1)},
    )
    assert {reason: 1}["key 0a0b was not in service on 2026-11-01"] == 1
    assert (
        Reason(Cause.FORGED)
        == Cause.FORGED.value
        == "the signature does not match: forged or altered"
    )


def test_no_reason_is_empty():
    assert (NO_REASON, NO_REASON.cause, bool(NO_REASON)) == ("", None, False)


@pytest.mark.parametrize(
    "details",
    [{}, {"kid": "0a0b"}, {"kid": "0a0b", "signed_on": "x", "since": "y"}],
)
def test_a_reason_takes_exactly_its_cause_s_details(details):
    with pytest.raises(TypeError, match="KEY_OUT_OF_SERVICE"):
        Reason(Cause.KEY_OUT_OF_SERVICE, **details)


def test_a_cause_without_fields_takes_no_details():
    with pytest.raises(TypeError):
        Reason(Cause.FORGED, kid="0a0b")
    with pytest.raises(TypeError):
        Reason(None, kid="0a0b")


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.name)
def test_a_reason_survives_a_copy_and_a_pickle(cause):
    reason = rendered(cause)
    for again in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert (type(again), again, again.cause, again.details) == (
            Reason,
            reason,
            cause,
            reason.details,
        )


# ---- the JSON keeps its strings ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [*OfflineStatus, *KeyState, *V.Status, rendered(Cause.UNKNOWN_KEY), NO_REASON],
)
def test_enums_and_reasons_encode_as_their_strings(value):
    text = json.dumps(str.__str__(value))
    assert json.dumps(value) == text
    assert encode_json(value).decode() == text  # the encoder Litestar answers with


_ON = dt.date(2026, 11, 23)
_FACTS = verification.Facts(
    number="A0020000012015000003",
    kind="fixed_floor",
    floor=45000,
    valid_from=dt.date(2015, 10, 16),
    valid_until=dt.date(2065, 10, 16),
    revoked_on=None,
    revoke_reason=None,
    issue_number="0000021309",
    owner_sequence=1,
    owner_name="山本 一郎",
    owner_salt="00" * 16,
    issue_status="active",
    current_sequence=1,
    superseded_on=None,
    next_due=dt.date(2026, 1, 1),
    last_inspection=dt.date(2022, 1, 1),
)


class _Settings:
    due_window_days = 90
    grace_days = 30

    @staticmethod
    def current_date() -> dt.date:
        return _ON


def _described(**changes) -> dict:
    facts = dataclasses.replace(_FACTS, **changes)
    return verification.describe(_Settings(), facts, None, _ON)


def test_a_valid_answer_prints_as_before():
    assert encode_json(_described()).decode() == (
        '{"valid":true,"status":"valid","message":"有効な証明書です。",'
        '"number":"A0020000012015000003","issue_number":"0000021309","kind":"fixed_floor",'
        '"floor":45000,"valid_from":"2015-10-16","valid_until":"2065-10-16",'
        '"owner_sequence":1,"current_owner_sequence":1,"owner":"山本 ＊＊",'
        '"name_matches":null,"reason":"","standing":"overdue","overdue_since":"2026-01-01",'
        '"last_inspection":"2022-01-01","next_inspection":"2026-01-01"}'
    )


def test_a_superseded_answer_prints_as_before():
    answer = _described(
        issue_status="superseded", current_sequence=2, superseded_on=dt.date(2026, 5, 1)
    )
    assert json.dumps(answer, ensure_ascii=False) == (
        '{"valid": false, "status": "superseded", "message": "この写しは所有者1のものです。'
        '証明書は2026-05-01に所有者2へ承継され、再発行されています。", '
        '"number": "A0020000012015000003", "issue_number": "0000021309", '
        '"kind": "fixed_floor", "floor": 45000, "valid_from": "2015-10-16", '
        '"valid_until": "2065-10-16", "owner_sequence": 1, "current_owner_sequence": 2, '
        '"owner": null, "name_matches": null, "reason": "", "standing": "overdue", '
        '"overdue_since": "2026-01-01", "last_inspection": "2022-01-01", '
        '"next_inspection": "2026-01-01", "superseded_on": "2026-05-01"}'
    )
    unknown_day = _described(issue_status="superseded", current_sequence=3)
    assert unknown_day["message"] == (
        "この写しは所有者1のものです。証明書は所有者3へ承継され、再発行されています。"
    )


def test_a_revoked_answer_prints_as_before():
    answer = _described(
        revoked_on=dt.date(2026, 1, 1), revoke_reason="虚偽の申請", issue_status="superseded"
    )
    assert list(answer)[-2:] == ["next_inspection", "revoked_on"]
    assert (answer["status"], answer["message"], answer["reason"], answer["revoked_on"]) == (
        "revoked",
        "この証明書は取り消されています。",
        "虚偽の申請",
        "2026-01-01",
    )


def test_an_expired_answer_prints_as_before():
    answer = _described(valid_until=dt.date(2026, 1, 1), revoke_reason="not shown")
    assert (answer["status"], answer["valid"], answer["message"], answer["reason"]) == (
        "expired",
        False,
        "この証明書は有効期間を過ぎています。",
        "",
    )
    assert "revoked_on" not in answer and "superseded_on" not in answer


def test_an_unconfirmed_answer_prints_as_before():
    answer = verification.invalid(Reason(Cause.UNKNOWN_KEY, kid="ffff"))
    assert encode_json(answer).decode() == (
        '{"valid":false,"status":"invalid","message":"この証明書は確認できません。",'
        '"reason":"signed by key ffff, which the registry does not know",'
        '"reason_ja":"登録簿にない鍵で署名されています。","number":null,"issue_number":null}'
    )
    assert type(answer["reason"]) is str


def test_an_answer_is_built_from_keywords_only():
    with pytest.raises(TypeError):
        V.Unconfirmed(Reason(Cause.FORGED))
    with pytest.raises(TypeError):
        V.Answer(V.Status.VALID)


# ---- the page shows the Japanese, by enum -------------------------------------------------


def _page(answer: dict) -> str:
    engine = JinjaTemplateEngine(directory=HTML)
    template = engine.get_template("verify.html")
    return template.render(a=answer, payload="X", name="", spent=False)


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.name)
def test_the_page_gives_each_reason_in_japanese(cause):
    page = _page(verification.invalid(rendered(cause)))
    assert 'data-status="invalid"' in page
    assert f"<strong>{V.STATUS_JA[V.Status.INVALID].label}</strong>" in page
    assert f"<div>理由: {V.REASONS_JA[cause]}</div>" in page
    assert str(rendered(cause)) not in page  # the English stays out of the buyer's page


DESCRIBED = [
    (V.Status.VALID, {}),
    (V.Status.SUPERSEDED, {"issue_status": "superseded", "current_sequence": 2}),
    (V.Status.REVOKED, {"revoked_on": dt.date(2026, 1, 1), "revoke_reason": "虚偽の申請"}),
    (V.Status.EXPIRED, {"valid_until": dt.date(2026, 1, 1)}),
]
"""A certificate the registry describes in each status but invalid (Unconfirmed, above)."""


def test_every_status_has_a_page_test():
    assert {V.Status.INVALID} | {status for status, _ in DESCRIBED} == set(V.Status)


@pytest.mark.parametrize(("status", "changes"), DESCRIBED)
def test_the_page_heads_each_status_with_its_label(status, changes):
    answer = _described(**changes)
    assert answer["status"] is status
    page = _page(answer)
    assert f'data-status="{status.value}"' in page
    assert f"<strong>{V.STATUS_JA[status].label}</strong>" in page
    assert f"<span>{answer['message']}</span>" in page
    assert ("<div>理由: 虚偽の申請</div>" in page) == (status is V.Status.REVOKED)
