"""Clusters of similar complaints against a company (collective complaints, 集体投诉), for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from greenchannel.problems import Problem
from routing.adapters.similarity import Cluster, ClusterMember, SimilarityRepository
from routing.api.dependencies import Operator, SettingsDependency, Similar
from routing.domain.directory import COMPANY_ID_PATTERN

router = APIRouter(prefix="/v1", tags=["clusters"])


class ClusterView(Cluster):
    collective: bool = Field(description="At least CLUSTER_MIN_SIZE members: a collective complaint.")
    members: list[ClusterMember] = Field(description="The members, earliest filed first (at most `members` of them).")


class ClusterList(BaseModel):
    items: list[ClusterView]


MemberLimit = Annotated[int, Query(ge=0, le=1000, description="How many members to list with each cluster.")]


async def _view(similar: SimilarityRepository, cluster: Cluster, min_size: int, member_limit: int) -> ClusterView:
    members = await similar.members(cluster.cluster_id, member_limit) if member_limit else []
    return ClusterView(**cluster.model_dump(), collective=cluster.size >= min_size, members=members)


@router.get(
    "/clusters", response_model=ClusterList, summary="Clusters of similar complaints against a company (operators)"
)
async def list_clusters(
    _: Operator,
    similar: Similar,
    settings: SettingsDependency,
    company_id: Annotated[str, Query(pattern=COMPANY_ID_PATTERN)],
    min_size: Annotated[int, Query(ge=1, le=100000, description="Only clusters with at least this many members.")] = 2,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    members: MemberLimit = 100,
) -> ClusterList:
    clusters = await similar.list_clusters(company_id, min_size, limit)
    return ClusterList(
        items=[await _view(similar, cluster, settings.cluster_min_size, members) for cluster in clusters]
    )


@router.get("/clusters/{cluster_id}", response_model=ClusterView, summary="One cluster with its members (operators)")
async def get_cluster(
    _: Operator,
    similar: Similar,
    settings: SettingsDependency,
    cluster_id: Annotated[str, Path(max_length=120)],
    members: MemberLimit = 100,
) -> ClusterView:
    cluster = await similar.get_cluster(cluster_id)
    if cluster is None:
        raise Problem(404, "cluster_not_found", f"No cluster {cluster_id!r}.")
    return await _view(similar, cluster, settings.cluster_min_size, members)
