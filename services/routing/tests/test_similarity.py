"""The similarity rules on a corpus of realistic complaint texts: near-duplicates must reach the duplicate
threshold, different complaints about the same topic must stay below the cluster threshold, complaints
filed from one template by several complainants must reach the cluster threshold (and share LSH band
keys), and the same incident told independently must not. The thresholds in domain/similarity.py were
chosen on this corpus; a change of shingling or threshold has to keep both sides here."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from datasketch import MinHashLSH

from routing.adapters.segmenter import load_segmenter
from routing.domain import similarity
from routing.domain.similarity import (
    CLUSTER_SIMILARITY,
    DUPLICATE_SIMILARITY,
    LSH_BANDS,
    LSH_ROWS,
    NUM_PERM,
    Earlier,
    Signature,
    choose_cluster,
    original_of,
)

pytestmark = pytest.mark.unit

CORPUS = yaml.safe_load((Path(__file__).parent / "similarity_corpus.yaml").read_text(encoding="utf-8"))


def complaint(item: dict) -> tuple[str, str]:
    return item["title"], item["description"]


COMPLAINTS = {name: complaint(item) for name, item in CORPUS["complaints"].items()}
NEAR = {name: complaint(item) for name, item in CORPUS["near_duplicates"].items()}
NEAR_OF = {name: COMPLAINTS[item["of"]] for name, item in CORPUS["near_duplicates"].items()}
DIFFERENT = [(COMPLAINTS[a], COMPLAINTS[b]) for a, b in CORPUS["different"]]
UNRELATED = [(COMPLAINTS[a], COMPLAINTS[b]) for a, b in CORPUS["unrelated"]]
COLLECTIVE = [complaint(item) for item in CORPUS["collective"]]
INDEPENDENT_SAME_INCIDENT = [complaint(item) for item in CORPUS["independent_same_incident"]]
A1, A2, B = COMPLAINTS["A1"], COMPLAINTS["A2"], COMPLAINTS["B"]


@pytest.fixture(scope="module")
def signature():
    segment = load_segmenter()

    def of(complaint: tuple[str, str]) -> Signature:
        made = Signature.of_text(similarity.complaint_text(*complaint), segment)
        assert made is not None
        return made

    return of


def test_the_thresholds_and_the_lsh_layout_belong_together():
    assert CLUSTER_SIMILARITY < DUPLICATE_SIMILARITY
    # The band layout is what datasketch's own LSH picks for the cluster threshold, false negatives weighted 0.7.
    lsh = MinHashLSH(threshold=CLUSTER_SIMILARITY, num_perm=NUM_PERM, weights=(0.3, 0.7))
    assert (lsh.b, lsh.r) == (LSH_BANDS, LSH_ROWS)


@pytest.mark.parametrize("variant", sorted(NEAR))
def test_near_duplicates_reach_the_duplicate_threshold(signature, variant):
    assert signature(NEAR[variant]).similarity(signature(NEAR_OF[variant])) >= DUPLICATE_SIMILARITY


@pytest.mark.parametrize(
    ("first", "second"), DIFFERENT + UNRELATED, ids=[f"{a}-{b}" for a, b in CORPUS["different"] + CORPUS["unrelated"]]
)
def test_different_complaints_stay_below_both_thresholds_and_share_no_band(signature, first, second):
    a, b = signature(first), signature(second)
    assert a.similarity(b) < CLUSTER_SIMILARITY < DUPLICATE_SIMILARITY
    assert not set(a.band_keys()) & set(b.band_keys()), "not even read as a candidate"


def test_a_templated_collective_complaint_reaches_the_cluster_threshold_and_shares_bands(signature):
    signatures = [signature(complaint) for complaint in COLLECTIVE]
    for a, b in itertools.combinations(signatures, 2):
        assert a.similarity(b) >= CLUSTER_SIMILARITY
        assert set(a.band_keys()) & set(b.band_keys())


def test_the_same_incident_told_independently_is_no_cluster(signature):
    for told in INDEPENDENT_SAME_INCIDENT:
        for other in COLLECTIVE + [item for item in INDEPENDENT_SAME_INCIDENT if item is not told]:
            assert signature(told).similarity(signature(other)) < CLUSTER_SIMILARITY


def test_normalisation_folds_width_and_case_and_drops_punctuation_symbols_and_spaces():
    assert similarity.normalise("ＡＰＰ扣费２５元！！") == "app扣费25元  "
    assert similarity.normalise("客服:“不退”…\t😡 OK").split() == ["客服", "不退", "ok"]
    segment = load_segmenter()
    assert similarity.words("自动续费，未提醒。", segment) == similarity.words("自动续费 未提醒", segment)
    assert similarity.shingles(["会员", "自动", "续费"]) == {"会员 自动", "自动 续费"}
    assert similarity.shingles(["扣费"]) == {"扣费"}
    assert Signature.of_text("！！！ …… ", segment) is None, "nothing left to compare"


def test_signatures_are_deterministic_compact_and_survive_storage():
    made = Signature.of_shingles(["会员 自动", "自动 续费", "续费 扣款"])
    assert made is not None
    stored = made.to_bytes()
    assert len(stored) < 600
    # The same shingles give the same bytes in every process and release: fixed seed, scheme and byte order.
    assert hashlib.sha256(stored).hexdigest()[:16] == "e6d3b6989309b3e6"
    again = Signature.from_bytes(stored)
    assert again.similarity(made) == 1.0 and again.band_keys() == made.band_keys()
    keys = made.band_keys()
    assert len(keys) == LSH_BANDS and all(-(2**63) <= key < 2**63 for key in keys)
    assert Signature.of_shingles([]) is None


def _earlier(
    number: str, day: int, text: tuple[str, str], signature, cluster: str | None = None, formed: int | None = None
):
    at = datetime(2026, 5, day, tzinfo=UTC)
    return Earlier(
        number=number,
        submitted_at=at,
        signature=signature(text),
        cluster_id=cluster,
        cluster_formed_at=None if formed is None else datetime(2026, 5, formed, tzinfo=UTC),
    )


def test_the_original_is_the_earliest_complaint_nearly_repeated(signature):
    earlier = [
        _earlier("GC-3", 3, A1, signature),
        _earlier("GC-2", 2, NEAR["A1-reworded"], signature),
        _earlier("GC-1", 1, A2, signature),
    ]
    found = original_of(signature(NEAR["A1-typos"]), earlier, DUPLICATE_SIMILARITY)
    assert found is not None and found.number == "GC-2"
    assert original_of(signature(B), earlier, DUPLICATE_SIMILARITY) is None


def test_a_complaint_joins_the_oldest_cluster_it_matches_or_forms_one_with_the_earliest_match(signature):
    new = signature(COLLECTIVE[0])
    formed = choose_cluster(
        new,
        [
            _earlier("GC-7", 7, COLLECTIVE[1], signature),
            _earlier("GC-5", 5, COLLECTIVE[2], signature),
            _earlier("GC-6", 6, A1, signature),
        ],
        CLUSTER_SIMILARITY,
    )
    assert formed == similarity.ClusterChoice(cluster_id="CL-GC-5", also_joining=["GC-5", "GC-7"], first_number="GC-5")
    assert formed.forms
    joined = choose_cluster(
        new,
        [
            _earlier("GC-9", 9, COLLECTIVE[1], signature, cluster="CL-GC-8", formed=9),
            _earlier("GC-4", 4, COLLECTIVE[2], signature, cluster="CL-GC-3", formed=4),
            _earlier("GC-10", 10, COLLECTIVE[3], signature),
        ],
        CLUSTER_SIMILARITY,
    )
    assert joined == similarity.ClusterChoice(cluster_id="CL-GC-3", also_joining=["GC-10"])
    assert not joined.forms
    assert choose_cluster(new, [_earlier("GC-6", 6, A1, signature)], CLUSTER_SIMILARITY) is None
