"""A builder's day and the Institute's approvals over the registry API, printed request by
request: a walkthrough for integrators, run against the served demo registry.

    kaseru demo && kaseru serve --port 8765 &
    kaseru apikey create --role builder --builder 000001 --json > builder.json
    kaseru apikey create --role staff --json > staff.json
    .venv/bin/python docs/api_walkthrough.py --url http://127.0.0.1:8765 \\
        --builder-key builder.json --staff-key staff.json

Writes lot01.pdf, lot02.pdf and notice.pdf into the current folder and checks lot01.pdf and
notice.pdf with pdfsig; the seller's 照会コード is read from lot02.pdf with pdftotext.
"""

# ruff: noqa: E501, SIM115, E741
import argparse
import json
import re
import subprocess
from urllib.parse import quote

import httpx

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--url", default="http://127.0.0.1:8765")
parser.add_argument(
    "--builder-key", default="builder.json", help="kaseru apikey create … --json output"
)
parser.add_argument("--staff-key", default="staff.json")
args = parser.parse_args()
B = {"authorization": "Bearer " + json.load(open(args.builder_key))["key"]}
S = {"authorization": "Bearer " + json.load(open(args.staff_key))["key"]}
c = httpx.Client(base_url=args.url, timeout=60)


def show(r, keep=None):
    body = (
        r.json()
        if "json" in r.headers.get("content-type", "")
        else f"<{len(r.content):,} bytes {r.headers['content-type']}>"
    )
    if keep and isinstance(body, dict):
        body = {k: body[k] for k in keep if k in body}
    print(f"→ {r.status_code} {json.dumps(body, ensure_ascii=False)[:400]}")


def lot(n):
    return {
        "house": {
            "builder_code": "000001",
            "postal_code": "511-0838",
            "address": f"三重県桑名市和泉{200 + n}番地",
            "completion_date": "2026-10-01",
            "construction": "new",
            "lot": f"{n:02d}",
            "grade_deterioration": 3,
            "grade_maintenance": 3,
            "grade_seismic": 2,
        },
        "kind": "fixed_floor",
        "floor": 45000,
        "hlp_code": "HLP-000001",
        "owner_name": f"購入者 {n:02d}",
        "owner_email": f"buyer{n:02d}@example.jp",
        "issued_on": "2026-11-20",
    }


dev = "桑名和泉ヒルズ"
print(f"$ POST /api/v1/developments/{dev}/certificates  (66 lots, Idempotency-Key: hills-1)")
r = c.post(
    f"/api/v1/developments/{dev}/certificates",
    json={"certificates": [lot(n) for n in range(1, 67)]},
    headers={**B, "idempotency-key": "hills-1"},
)
show(r, ["development", "issued"])
numbers = r.json()["certificates"]
print("  certificates:", numbers[0], "…", numbers[-1])
print("$ the same POST again (a retry)")
r2 = c.post(
    f"/api/v1/developments/{dev}/certificates",
    json={"certificates": [lot(n) for n in range(1, 67)]},
    headers={**B, "idempotency-key": "hills-1"},
)
show(r2, ["development", "issued"])
print("  same answer:", r2.json() == r.json())
print(f"$ GET /api/v1/certificates?development={dev}&limit=2")
r = c.get("/api/v1/certificates", params={"development": dev, "limit": 2}, headers=B)
print(
    f"→ {r.status_code} total={r.json()['total']} items={[(i['number'], i['owner'], i['standing']) for i in r.json()['items']]}"
)
print(f"$ GET /api/v1/certificates/{numbers[0]}/certificate.pdf")
r = c.get(f"/api/v1/certificates/{numbers[0]}/certificate.pdf", headers=B)
show(r)
open("lot01.pdf", "wb").write(r.content)
print(
    "  pdfsig:",
    [
        l.strip()
        for l in subprocess.run(
            ["pdfsig", "lot01.pdf"], capture_output=True, text=True
        ).stdout.splitlines()
        if "Signature Validation" in l or "Total document" in l
    ],
)
old = "A0020000012015000010"
print(f"$ GET /api/v1/certificates/{old}/record  (demo lot 10, overdue)")
r = c.get(f"/api/v1/certificates/{old}/record", headers=B)
show(r, ["number", "standing", "next_inspection_due"])
print(f"$ POST /api/v1/certificates/{old}/inspections")
r = c.post(
    f"/api/v1/certificates/{old}/inspections",
    json={
        "inspected_on": "2026-11-20",
        "inspector": "検査員 大野",
        "result": "passed",
        "findings": "劣化なし",
    },
    headers=B,
)
show(r, ["number", "standing", "next_inspection_due"])
r = c.get(f"/api/v1/certificates/{old}/record", headers=B)
print("  history:", json.dumps(r.json()["history"][-1], ensure_ascii=False))
print("$ GET /api/v1/inspections/due  (the builder's coming and overdue inspections)")
r = c.get("/api/v1/inspections/due", headers=B)
print(
    f"→ {r.status_code} total={r.json()['total']} first={json.dumps(r.json()['items'][0], ensure_ascii=False)}"
)
print(f"$ GET /api/v1/developments/{dev}/guarantee.pdf")
show(c.get(f"/api/v1/developments/{dev}/guarantee.pdf", headers=B))
page = f"/developments/000001/{quote(dev, safe='')}"
print(f"$ GET /developments/000001/{dev}  (the page the flyer's QR code opens, as JSON)")
show(
    c.get(page, headers={"accept": "application/json"}),
    ["development", "builder_code", "lots", "floor_lowest"],
)
print(f"$ GET /developments/{dev}  (older flyers' address: while one builder has the name)")
r = c.get(f"/developments/{quote(dev)}", follow_redirects=False)
print(f"→ {r.status_code} location: {r.headers.get('location')}")
print(
    "$ another builder's lot into this development would get 409, nothing written (tests/api/test_developments.py)"
)
print(
    "$ another builder's key would get 404 for these numbers (tests/api/test_registry_api.py::test_authorization_table)"
)

print("\n# staff")
# The seller reads the 照会コード off their certificate (here: its PDF, as pdftotext reads it).
r = c.get(f"/api/v1/certificates/{numbers[1]}/certificate.pdf", headers=B)
open("lot02.pdf", "wb").write(r.content)
printed = subprocess.run(
    ["pdftotext", "lot02.pdf", "-"], capture_output=True, text=True, timeout=60
).stdout
lot02_code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", printed).group(0)
print(f"$ POST /api/v1/endorsements  (public: the seller of {numbers[1]}, code {lot02_code})")
sale = {
    "certificate_number": numbers[1],
    "code": lot02_code,
    "seller_name": "購入者 02",
    "buyer_name": "森 陽介",
    "buyer_address": "三重県桑名市和泉202番地",
    "sale_date": "2026-11-21",
}
r = c.post("/api/v1/endorsements", json=sale)
show(r)
print("$ POST /api/v1/endorsements  (the same again, pending: one answer for every refusal)")
show(c.post("/api/v1/endorsements", json=sale))
tracking, code = r.json()["tracking_number"], r.json()["code"]
print(f"$ GET /api/v1/endorsements/{tracking}?code={code}  (public)")
show(c.get(f"/api/v1/endorsements/{tracking}", params={"code": code}))
print("$ GET /api/v1/endorsements?status=pending  (staff)")
r = c.get("/api/v1/endorsements", params={"status": "pending"}, headers=S)
item = r.json()["items"][0]
print(f"→ {r.status_code} total={r.json()['total']} {json.dumps(item, ensure_ascii=False)}")
print(
    f'$ POST /api/v1/endorsements/{tracking}/approve  {{"version": {item["version"]}}}  (staff, twice)'
)
show(
    c.post(f"/api/v1/endorsements/{tracking}/approve", json={"version": item["version"]}, headers=S)
)
show(
    c.post(
        f"/api/v1/endorsements/{tracking}/approve", json={"version": item["version"]}, headers=S
    ),
    ["status", "detail"],
)
r = c.get(f"/api/v1/certificates/{numbers[1]}/record", headers=B)
print("  issues now:", [(i["issue_number"], i["owner"], i["status"]) for i in r.json()["issues"]])
print(f"$ POST /api/v1/leases  (staff: the owner of {old} applies)")
r = c.post(
    "/api/v1/leases",
    json={
        "certificate_number": old,
        "hlp_code": "HLP-000001",
        "contract_form": "fixed_period",
        "planned_move_out": "2027-06-01",
        "lease_years": 15,
        "applied_on": "2026-11-20",
        "assessed_lower": 88000,
        "assessed_upper": 98000,
    },
    headers=S,
)
show(r)
case = r.json()["case_number"]
print(f"$ POST /api/v1/leases/{case}/approve")
r = c.post(
    f"/api/v1/leases/{case}/approve",
    json={
        "case_number": case,
        "effective_date": "2027-06-01",
        "decided_rent": 95000,
        "decided_on": "2026-11-23",
    },
    headers=S,
)
show(r)
print(f"$ GET /api/v1/leases/{case}/notice.pdf")
r = c.get(f"/api/v1/leases/{case}/notice.pdf", headers=S)
show(r)
open("notice.pdf", "wb").write(r.content)
print(
    "  pdfsig:",
    [
        l.strip()
        for l in subprocess.run(
            ["pdfsig", "notice.pdf"], capture_output=True, text=True
        ).stdout.splitlines()
        if "Signature Validation" in l
    ],
)
