"""Duplicates and collective complaints end to end against the real stand-ins: complaint.submitted in over
RabbitMQ, signatures and clusters in SecantusDB, complaint.screened and cluster.joined out through the
outbox, the operator's cluster API; and two replicas on one database converging on one cluster."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from devstack.eventtap import EventTap
from greenchannel.contracts import CloudEvent, ComplaintSubmitted, ComplaintWithdrawn

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
OPERATOR = {"Authorization": "Bearer test-operator"}
TAPPED = ["complaint.screened", "cluster.joined"]
CORPUS = yaml.safe_load((Path(__file__).parent / "similarity_corpus.yaml").read_text(encoding="utf-8"))
ORIGINAL = CORPUS["complaints"]["A1"]
REPEATED = CORPUS["near_duplicates"]["A1-mixed"]
SAME_TOPIC = CORPUS["complaints"]["A4"]
COLLECTIVE = CORPUS["collective"]


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12].upper()}"


def new_complainant() -> str:
    return uuid.uuid4().hex * 2


@dataclass
class Harness:
    apps: list
    http: httpx.AsyncClient
    tap: EventTap

    @property
    def db(self):
        return self.apps[0].state.runtime.db

    async def submit(
        self,
        text: dict,
        *,
        complainant: str,
        company_id: str = "c-haina",
        submitted_at: datetime = NOW,
        number: str | None = None,
    ) -> str:
        number = number or new_number()
        data = ComplaintSubmitted(
            number=number,
            company_id=company_id,
            category="auto_renewal",
            title=text["title"],
            description=text["description"],
            occurred_on=date(2026, 5, 1),
            desired_outcome="退款",
            complainant_key=complainant,
            region_code="11",
            submitted_at=submitted_at,
        )
        await self.tap.publish(CloudEvent.wrap(data, source="/services/intake", subject=number))
        return number

    async def screened(self, number: str) -> dict:
        return (await self.tap.wait_for("complaint.screened", subject=number, timeout=30)).event.data

    def joined(self, number: str) -> list[dict]:
        return [tapped.event.data for tapped in self.tap.events("cluster.joined", subject=number)]


@pytest.fixture(scope="module")
async def routing(routing_settings, run_routing, broker_namespace, run_id):
    settings = routing_settings(
        f"t{run_id}_routing_similar", broker_namespace.settings_for("routing-similar"), service_name="routing-similar"
    )
    async with run_routing(settings, lambda: NOW, TAPPED) as (apps, http, tap):
        yield Harness(apps=apps, http=http, tap=tap)


async def test_a_near_repeat_by_the_same_complainant_is_rejected_as_a_duplicate_of_the_original(routing):
    complainant = new_complainant()
    original = await routing.submit(ORIGINAL, complainant=complainant, submitted_at=NOW - timedelta(days=29))
    assert (await routing.screened(original))["decision"] == "accepted"
    repeat = await routing.submit(REPEATED, complainant=complainant)
    decision = await routing.screened(repeat)
    assert (decision["decision"], decision["reason"], decision["duplicate_of"]) == ("rejected", "duplicate", original)
    assert original in decision["detail"] and "30 days" in decision["detail"]
    assert decision["response_due"] is None and decision["company_id"] == "c-haina"
    stored = (await routing.http.get(f"/v1/decisions/{repeat}")).json()
    assert (stored["reason"], stored["duplicate_of"]) == ("duplicate", original)
    # A duplicate is no original of anything, and no member of any cluster.
    assert await routing.db.signatures.count_documents({"_id": repeat}) == 0
    assert routing.joined(repeat) == []


async def test_outside_the_window_a_different_complaint_and_after_a_withdrawal_are_accepted(routing):
    complainant = new_complainant()
    long_ago = await routing.submit(ORIGINAL, complainant=complainant, submitted_at=NOW - timedelta(days=31))
    assert (await routing.screened(long_ago))["decision"] == "accepted"
    again = await routing.submit(REPEATED, complainant=complainant)
    assert (await routing.screened(again))["decision"] == "accepted", "31 days later the window is over"
    other_topic = await routing.submit(SAME_TOPIC, complainant=complainant)
    assert (await routing.screened(other_topic))["decision"] == "accepted", "another auto-renewal, not a duplicate"
    # Another complainant's text of the same words is no duplicate either (it is for clustering to find).
    someone_else = await routing.submit(REPEATED, complainant=new_complainant())
    assert (await routing.screened(someone_else))["decision"] == "accepted"

    withdrawn = await routing.tap.publish(
        CloudEvent.wrap(
            ComplaintWithdrawn(
                number=again, company_id="c-haina", reason="已自行解决", withdrawn_at=NOW + timedelta(hours=1)
            ),
            source="/services/intake",
            subject=again,
        )
    )
    for _ in range(300):
        if await routing.db.inbox.count_documents({"_id": withdrawn.id}):
            break
        await asyncio.sleep(0.05)
    refiled = await routing.submit(ORIGINAL, complainant=complainant, submitted_at=NOW + timedelta(hours=2))
    assert (await routing.screened(refiled))["decision"] == "accepted", "the only original was withdrawn"


async def test_several_complainants_with_one_template_form_a_cluster_that_grows(routing):
    numbers = []
    for text in COLLECTIVE:
        number = await routing.submit(text, complainant=new_complainant(), company_id="c-xunlian")
        assert (await routing.screened(number))["decision"] == "accepted"
        numbers.append(number)
        if len(numbers) > 1:
            await routing.tap.wait_for("cluster.joined", subject=number, timeout=30)
    first, second, *later = numbers
    cluster_id = f"CL-{first}"
    assert routing.joined(first) == [
        {
            "cluster_id": cluster_id,
            "number": first,
            "company_id": "c-xunlian",
            "size": 2,
            "collective": False,
            "joined_at": routing.joined(first)[0]["joined_at"],
        }
    ]
    assert [(event["cluster_id"], event["size"]) for event in routing.joined(second)] == [(cluster_id, 2)]
    # Collective (集体投诉) from CLUSTER_MIN_SIZE (5) members on: what intake may call it publicly.
    assert [
        [(event["cluster_id"], event["size"], event["collective"]) for event in routing.joined(number)]
        for number in later
    ] == [[(cluster_id, 3, False)], [(cluster_id, 4, False)], [(cluster_id, 5, True)]]
    assert datetime.fromisoformat(routing.joined(first)[0]["joined_at"]) == NOW

    # The same incident in one's own words joins nothing.
    independent = await routing.submit(
        CORPUS["independent_same_incident"][0], complainant=new_complainant(), company_id="c-xunlian"
    )
    assert (await routing.screened(independent))["decision"] == "accepted"

    listed = await routing.http.get("/v1/clusters", params={"company_id": "c-xunlian"}, headers=OPERATOR)
    assert listed.status_code == 200, listed.text
    [cluster] = listed.json()["items"]
    assert (cluster["cluster_id"], cluster["first_number"], cluster["size"], cluster["collective"]) == (
        cluster_id,
        first,
        5,
        True,
    )
    assert sorted(member["number"] for member in cluster["members"]) == sorted(numbers)
    one = await routing.http.get(f"/v1/clusters/{cluster_id}", params={"members": 2}, headers=OPERATOR)
    assert one.status_code == 200 and len(one.json()["members"]) == 2 and one.json()["size"] == 5
    assert routing.joined(independent) == []
    await asyncio.sleep(0.3)  # time for any second copy to come through
    assert [len(routing.joined(number)) for number in numbers] == [1] * 5, "one cluster.joined per member"


async def test_the_cluster_api_is_for_operators_and_answers_problems(routing):
    assert (await routing.http.get("/v1/clusters", params={"company_id": "c-haina"})).status_code == 401
    bad = await routing.http.get("/v1/clusters", params={"company_id": "Not An Id"}, headers=OPERATOR)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    missing = await routing.http.get("/v1/clusters/CL-GC-NEVER", headers=OPERATOR)
    assert missing.status_code == 404 and missing.json()["code"] == "cluster_not_found"
    empty = await routing.http.get("/v1/clusters", params={"company_id": "c-lanjing"}, headers=OPERATOR)
    assert empty.json() == {"items": []}


async def test_band_keys_older_than_the_clustering_window_are_dropped(routing):
    complainant = new_complainant()
    old = await routing.submit(
        CORPUS["complaints"]["C"], complainant=complainant, submitted_at=NOW - timedelta(days=40)
    )
    recent = await routing.submit(
        CORPUS["complaints"]["D"], complainant=complainant, submitted_at=NOW - timedelta(days=20)
    )
    for number in (old, recent):
        assert (await routing.screened(number))["decision"] == "accepted"
    assert await routing.apps[0].state.band_pruning.run_once() >= 1
    bands = {
        document["_id"]: len(document["bands"])
        async for document in routing.db.signatures.find({"_id": {"$in": [old, recent]}})
    }
    assert bands == {old: 0, recent: 42}
    assert await routing.apps[0].state.band_pruning.run_once() == 0, "nothing left to drop"


async def test_two_replicas_screening_similar_complaints_at_once_converge_on_one_cluster(
    routing_settings, run_routing, broker_namespace, run_id
):
    namespace = broker_namespace.isolated("routing-similar-replicas")
    settings = routing_settings(f"t{run_id}_routing_similar_replicas", namespace.settings_for("routing"))
    async with run_routing(settings, lambda: NOW, TAPPED, replicas=2) as (replicas, http, tap):
        harness = Harness(apps=replicas, http=http, tap=tap)
        # Pairs of similar complaints against several companies, all at once: the two of a pair are screened
        # side by side, each before the other is stored, and must still end in one cluster.
        companies = ["c-haina", "c-xunlian", "c-qingtu", "c-maisui", "c-shengbo", "c-jinli"]
        pairs = [
            (company, COLLECTIVE[index % len(COLLECTIVE)], COLLECTIVE[(index + 1) % len(COLLECTIVE)])
            for index, company in enumerate(companies)
        ]
        submitted = await asyncio.gather(
            *(
                harness.submit(text, complainant=new_complainant(), company_id=company)
                for company, *texts in pairs
                for text in texts
            )
        )
        for number in submitted:
            assert (await harness.screened(number))["decision"] == "accepted"
            await tap.wait_for("cluster.joined", subject=number, timeout=30)
        clusters = await harness.db.clusters.find().sort("company_id").to_list(None)
        assert [(cluster["company_id"], cluster["size"]) for cluster in clusters] == [
            (company, 2) for company in sorted(companies)
        ]

        # A larger burst against one company: every complaint joins once, and the sizes count up to the last.
        numbers = await asyncio.gather(
            *(
                harness.submit(text, complainant=new_complainant(), company_id="c-anju")
                for text in [*COLLECTIVE, COLLECTIVE[0]]
            )
        )
        for number in numbers:
            assert (await harness.screened(number))["decision"] == "accepted"
            await tap.wait_for("cluster.joined", subject=number, timeout=30)
        await asyncio.sleep(0.5)  # time for any second copy to come through
        events = [event for number in numbers for event in harness.joined(number)]
        assert sorted(event["size"] for event in events) == [2, 2, 3, 4, 5, 6]
        assert len({event["cluster_id"] for event in events}) == 1
        assert sorted(event["number"] for event in events) == sorted(numbers)
        cluster = await harness.db.clusters.find_one({"company_id": "c-anju"})
        assert cluster["size"] == 6 and cluster["_id"] == f"CL-{cluster['first_number']}"
        assert await harness.db.signatures.count_documents({"cluster_id": cluster["_id"]}) == 6
