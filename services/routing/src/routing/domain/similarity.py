"""How alike two complaints' texts are, and what screening makes of it: duplicates and collective complaints (集体投诉).

Text to signature. The text is the title and the description. It is folded (NFKC: full-width
letters, digits and punctuation become their half-width forms; case-folded), every punctuation
mark, symbol, space and control character becomes a separator, and jieba segments what is left
into words. The shingles are the word bigrams (a text of one word: that word), so a reworded
phrase changes a few shingles while reordered sentences keep nearly all of them. A MinHash of
``NUM_PERM`` permutations (datasketch, ``affine32`` scheme, fixed seed, so every replica and every
release computes the same signature for the same text) estimates their Jaccard similarity; it is
stored in datasketch's LeanMinHash byte format (525 bytes, little-endian).

Thresholds (estimated Jaccard of word bigrams), chosen on the corpus in
tests/similarity_corpus.yaml: near-duplicates there (reworded, sentences reordered or added,
typos, punctuation and width changes) score 0.63-1.0, different complaints about the same topic at
most 0.09; complaints filed from one template by several complainants score 0.44-0.67 to each
other, the same incident told independently at most 0.04. Hence ``DUPLICATE_SIMILARITY`` 0.4 and
``CLUSTER_SIMILARITY`` 0.3, each well clear of both sides.

Finding candidates at scale. A duplicate is looked for among the complainant's own earlier
complaints against the company (an indexed query, a handful of documents, compared exactly). A
collective complaint needs candidates among every complainant's: those come from MinHash LSH band
keys stored with each signature. The 126 first permutations form ``LSH_BANDS`` bands of
``LSH_ROWS`` rows (what datasketch's ``MinHashLSH`` picks for threshold 0.3 with false negatives
weighted 0.7); two texts share a band key with probability 1-(1-s^3)^42: 0.68 at s = 0.3, 0.94 at
0.4, 0.996 at 0.5, but 0.005 at 0.05, so the many unrelated complaints of a large company are
rarely read. The band layout is part of what is stored: changing it needs the band keys rebuilt.

Clusters. A complaint joins the cluster of the complaints it matches (other complainants, same
company, within the window). Matching members of several clusters, it joins the oldest one
(formed first; then the smaller id); the clusters themselves are never merged. Matching only
complaints in no cluster, it forms one with them, named after the earliest of them (``cluster_id``),
so replicas that form the same cluster at once name it the same. Matched complaints that are in
no cluster yet join the chosen cluster together with the new one.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from datasketch import LeanMinHash, MinHash

NUM_PERM = 128
SEED = 20260212
SCHEME = "affine32"
LSH_BANDS = 42
LSH_ROWS = 3
BYTE_ORDER = "<"

DUPLICATE_SIMILARITY = 0.4
CLUSTER_SIMILARITY = 0.3

# Segments normalised text into words (jieba's, loaded by adapters/segmenter.py).
Segment = Callable[[str], Iterable[str]]

# Unicode general categories that separate words: punctuation, symbols (emoji too), separators, controls.
_SEPARATORS = ("P", "S", "Z", "C")
# The permutations are the same for every signature: generated once, not per text.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def normalise(text: str) -> str:
    """Folded text with every punctuation mark, symbol, space and control character turned into one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(" " if unicodedata.category(char)[0] in _SEPARATORS else char for char in folded)


def words(text: str, segment: Segment) -> list[str]:
    return [word for word in (token.strip() for token in segment(normalise(text))) if word]


def shingles(tokens: Sequence[str]) -> set[str]:
    """Word bigrams; a text of a single word is that word."""
    if len(tokens) < 2:
        return set(tokens)
    return {f"{first} {second}" for first, second in itertools.pairwise(tokens)}


class Signature:
    """The MinHash of a text's shingles."""

    def __init__(self, minhash: LeanMinHash) -> None:
        self.minhash = minhash

    @classmethod
    def of_shingles(cls, items: Iterable[str]) -> Signature | None:
        """The signature of ``items``; None for an empty set, which resembles nothing."""
        encoded = [item.encode("utf-8") for item in items]
        if not encoded:
            return None
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_PERMUTATIONS)
        minhash.update_batch(encoded)
        return cls(LeanMinHash(minhash))

    @classmethod
    def of_text(cls, text: str, segment: Segment) -> Signature | None:
        return cls.of_shingles(shingles(words(text, segment)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        return cls(LeanMinHash.deserialize(data, byteorder=BYTE_ORDER))

    def to_bytes(self) -> bytes:
        buffer = bytearray(self.minhash.bytesize(byteorder=BYTE_ORDER))
        self.minhash.serialize(buffer, byteorder=BYTE_ORDER)
        return bytes(buffer)

    def similarity(self, other: Signature) -> float:
        """The estimated Jaccard similarity of the two shingle sets."""
        return float(self.minhash.jaccard(other.minhash))

    def band_keys(self) -> list[int]:
        """One signed 64-bit key per LSH band: texts sharing any key are candidates for each other."""
        values = np.asarray(self.minhash.hashvalues, dtype="<u4")
        keys = []
        for band in range(LSH_BANDS):
            rows = values[band * LSH_ROWS : (band + 1) * LSH_ROWS].tobytes()
            digest = hashlib.blake2b(band.to_bytes(1, "little") + rows, digest_size=8).digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        return keys


@dataclass(frozen=True)
class SimilarityRules:
    """The configured windows and thresholds; a window of zero turns its check off."""

    duplicate_window: timedelta = timedelta(days=30)
    duplicate_similarity: float = DUPLICATE_SIMILARITY
    cluster_window: timedelta = timedelta(days=30)
    cluster_similarity: float = CLUSTER_SIMILARITY
    # A cluster this large is a collective complaint (集体投诉); smaller ones are only similar complaints.
    cluster_min_size: int = 5

    def is_collective(self, size: int) -> bool:
        return size >= self.cluster_min_size

    @property
    def checks_duplicates(self) -> bool:
        return self.duplicate_window > timedelta(0)

    @property
    def clusters(self) -> bool:
        return self.cluster_window > timedelta(0)


def complaint_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


@dataclass(frozen=True)
class Earlier:
    """An accepted complaint a new one is compared with."""

    number: str
    submitted_at: datetime
    signature: Signature
    cluster_id: str | None = None
    cluster_formed_at: datetime | None = None


def original_of(signature: Signature, earlier: Iterable[Earlier], threshold: float) -> Earlier | None:
    """The earliest of the complainant's earlier complaints that ``signature`` nearly repeats, if any."""
    matches = [item for item in earlier if signature.similarity(item.signature) >= threshold]
    return min(matches, key=lambda item: (item.submitted_at, item.number), default=None)


def cluster_id(first_number: str) -> str:
    """A cluster is named after its first member, so replicas forming it at once agree on the name."""
    return f"CL-{first_number}"


@dataclass(frozen=True)
class ClusterChoice:
    """The cluster a new complaint joins, and the matched complaints in no cluster yet that join it with it."""

    cluster_id: str
    also_joining: list[str]
    first_number: str | None = None

    @property
    def forms(self) -> bool:
        """The cluster is new: named after ``first_number``, the earliest complaint it holds."""
        return self.first_number is not None


def choose_cluster(signature: Signature, candidates: Iterable[Earlier], threshold: float) -> ClusterChoice | None:
    """The cluster a new complaint joins among the candidates it matches; None if it matches none."""
    matches = sorted(
        (item for item in candidates if signature.similarity(item.signature) >= threshold),
        key=lambda item: (item.submitted_at, item.number),
    )
    if not matches:
        return None
    unclustered = [item.number for item in matches if item.cluster_id is None]
    clustered = [item for item in matches if item.cluster_id is not None]
    if clustered:
        oldest = min(clustered, key=lambda item: (item.cluster_formed_at or item.submitted_at, item.cluster_id))
        return ClusterChoice(cluster_id=oldest.cluster_id, also_joining=unclustered)  # type: ignore[arg-type]
    first = matches[0].number
    return ClusterChoice(cluster_id=cluster_id(first), also_joining=unclustered, first_number=first)
