"""Concurrent changes to one case over HTTP on the running platform: what one request adds, another never
takes away, and an answer never claims what did not happen.

* A supplement and a file added to the same case at the same moment: both files stay listed.
* A file whose case stopped taking evidence while it was uploaded: 409 and no link, never 201 for a file
  the case does not list.
* Two accounts claiming one guest complaint at once: one wins, the other is told 409.

Each race is run several times with the second request started a little later each time, so the
moments where a file could be lost or an answer be wrong are crossed, not hoped for.
"""

from __future__ import annotations

import asyncio
import io
import uuid

import pytest
from PIL import Image

from devstack.accounts import register
from tests.e2e.test_lifecycle_journey import Journey, form

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OFFSETS_S = (0.0, 0.005, 0.01, 0.02, 0.04)


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, 90, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


async def later(delay: float, call):
    await asyncio.sleep(delay)
    return await call


async def supplement_round(platform, number: str, guest: dict, company: dict, offset: float, seed: int) -> dict:
    """The company asks; then a file is added and, ``offset`` seconds later, the supplement with three files
    of its own is sent. Answers the case as it stands afterwards, with what must be listed."""
    intake = platform.intake
    asked = await intake.post(
        f"/v1/company/complaints/{number}/info-request",
        headers={**company, "Idempotency-Key": f"race-{number}-{seed}"},
        json={"question": "请补充支付记录。"},
    )
    assert asked.status_code == 200, asked.text
    # The supplement's files are looked up before it is applied: the longer that takes, the wider the
    # moment in which a file added meanwhile used to be overwritten.
    attached = []
    for index in range(3):
        receipt = await intake.post(
            "/v1/evidence", files={"file": (f"s{seed}-{index}.png", png(seed + index), "image/png")}
        )
        assert receipt.status_code == 201, receipt.text
        attached.append(receipt.json()["evidence_id"])
    added, supplied = await asyncio.gather(
        intake.post(
            f"/v1/complaints/{number}/evidence",
            headers=guest,
            files={"file": (f"a{seed}.png", png(seed + 7), "image/png")},
        ),
        later(
            offset,
            intake.post(
                f"/v1/complaints/{number}/supplement",
                headers=guest,
                json={"text": f"补充 {seed}。", "evidence_ids": attached},
            ),
        ),
    )
    assert supplied.status_code == 200, supplied.text
    assert added.status_code == 201, added.text
    case = (await intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    return {"case": case, "expected": {added.json()["evidence_id"], *attached}}


async def test_a_supplement_never_drops_a_file_added_at_the_same_moment(platform):
    journey = Journey(platform)
    intake = platform.intake
    company = await journey.company_key((await journey.company())["id"])
    # How long adding a file takes here: the supplements are started across the moment its link commits.
    number, guest = await journey.file_and_forward()
    started = asyncio.get_running_loop().time()
    probe = await intake.post(
        f"/v1/complaints/{number}/evidence", headers=guest, files={"file": ("probe.png", png(1), "image/png")}
    )
    assert probe.status_code == 201, probe.text
    adding_s = asyncio.get_running_loop().time() - started
    offsets = [max(0.0, adding_s - 0.003 * step) for step in range(12)]
    rounds_per_case, seed, case = 4, 10, None  # 4 files a round, 20 files a case
    for index, offset in enumerate(offsets):
        if index % rounds_per_case == 0:
            number, guest = await journey.file_and_forward()
        seed += 10
        result = await supplement_round(platform, number, guest, company, offset, seed)
        case = result["case"]
        listed = {ref["evidence_id"] for ref in case["evidence"]}
        assert result["expected"] <= listed, f"a file went missing with the supplement {offset * 1000:.0f} ms later"
        assert case["status"] == "forwarded"
    assert case is not None and len(case["supplements"]) == rounds_per_case


async def test_a_file_for_a_case_that_moved_on_is_refused_not_lost(platform):
    journey = Journey(platform)
    intake = platform.intake
    for offset in OFFSETS_S:
        number, guest = await journey.file_and_forward()
        seed = int(offset * 1000) + 100
        added, withdrawn = await asyncio.gather(
            intake.post(
                f"/v1/complaints/{number}/evidence",
                headers=guest,
                files={"file": (f"w{seed}.png", png(seed), "image/png")},
            ),
            later(offset, intake.post(f"/v1/complaints/{number}/withdrawal", headers=guest, json={"reason": "已解决"})),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        case = (await intake.get(f"/v1/complaints/{number}", headers=guest)).json()
        listed = {ref["evidence_id"] for ref in case["evidence"]}
        if added.status_code == 201:
            assert added.json()["evidence_id"] in listed, "201 for a file the case does not list"
        else:
            assert added.status_code == 409, added.text
            assert added.json()["code"] == "complaint_not_open_for_evidence"
            assert len(listed) == 0
        links = await platform.apps["intake"].state.intake.cases.evidence_links.count_documents({"number": number})
        assert links == len(listed)


async def account(platform, login: str) -> dict[str, str]:
    registered = await register(platform.intake, platform.mailbox, login, "correct-horse-" + uuid.uuid4().hex[:6])
    return {"Authorization": f"Bearer {registered['access_token']}"}


async def test_two_accounts_claiming_one_complaint_get_one_yes_and_one_no(platform):
    intake = platform.intake
    company = (await Journey(platform).company())["name"]
    first = await account(platform, f"claim-a-{uuid.uuid4().hex[:8]}@example.cn")
    second = await account(platform, f"claim-b-{uuid.uuid4().hex[:8]}@example.cn")
    for offset in OFFSETS_S:
        filed = (await intake.post("/v1/complaints", json=form(company))).json()
        claim = {"number": filed["number"], "access_code": filed["access_code"]}
        answers = await asyncio.gather(
            intake.post("/v1/me/complaints/claim", headers=first, json=claim),
            later(offset, intake.post("/v1/me/complaints/claim", headers=second, json=claim)),
        )
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 409], [answer.text for answer in answers]
        winner = first if answers[0].status_code == 200 else second
        mine = (await intake.get("/v1/me/complaints", headers=winner)).json()["items"]
        assert filed["number"] in [item["number"] for item in mine]
        # Claiming one's own complaint again is not an error.
        again = await intake.post("/v1/me/complaints/claim", headers=winner, json=claim)
        assert again.status_code == 200 and again.json()["claimed"] is True
