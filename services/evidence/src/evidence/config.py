"""Settings of the evidence service; each field is read from the environment variable of the same name, upper-cased."""

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator

from greenchannel.secret_rules import SecretRule
from greenchannel.settings import PlatformSettings

MIB = 1024 * 1024


class Settings(PlatformSettings):
    # Required outside development mode, none of them a published value (with the shared tokens of
    # PlatformSettings). The storage's own rules bound its credentials (MinIO: an access key of 3 characters at
    # least, a secret key of 8).
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "s3_access_key": SecretRule(min_length=3),
        "s3_secret_key": SecretRule(min_length=8),
    }

    service_name: str = "evidence"
    internal_port: int = Field(default=8101, ge=0, le=65535)

    # Object storage (MinIO in production, any S3-compatible server elsewhere).
    s3_endpoint: str = Field(default="127.0.0.1:9000", description="host:port of the S3 API.")
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    s3_bucket: str = Field(default="greenchannel-evidence", min_length=3, max_length=63)
    s3_region: str = "us-east-1"
    s3_public_endpoint: str = Field(
        default="",
        description="host:port that download and upload links are signed for, when clients reach the storage by "
        "another name than the service does (e.g. behind a proxy); with a scheme (https://host) when clients reach "
        "it over TLS and the service does not; empty: the same as s3_endpoint.",
    )
    s3_timeout_s: float = Field(default=30.0, gt=0)
    s3_sign_payloads: bool = Field(
        default=False,
        description="Sign the body of every streamed upload with its own SHA-256 (x-amz-content-sha256) over plain "
        "HTTP. Off: the request is signed, its body sent as UNSIGNED-PAYLOAD, sparing a second hash of every byte "
        "(the receipt's SHA-256 is computed anyway, and operators re-verify stored objects against it). Turn it on "
        "when storage is reached over plain HTTP through a network that is not trusted (better: s3_secure, where "
        "TLS protects the body).",
    )

    # Evidence held unaltered (WORM): S3 object lock with a default retention on the bucket.
    evidence_object_lock_days: int = Field(
        default=0,
        ge=0,
        le=36500,
        description="Days each stored object version is locked against deletion and overwriting (the bucket's "
        "default retention). Above 0 the service creates the bucket with object lock (and so versioning) and this "
        "default retention, and refuses (stays not ready) a bucket that has no object lock or versioning; it sets "
        "the default retention of a locked bucket whose retention differs. 0: no lock asked (development).",
    )
    evidence_object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="GOVERNANCE: a user granted s3:BypassGovernanceRetention may still remove a version (a court "
        "order, an erasure the law demands); COMPLIANCE: nobody can, the root user included, until it expires.",
    )

    # Download links and uploads.
    download_link_ttl_s: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    upload_spool_memory_bytes: int = Field(
        default=1 * MIB,
        ge=1,
        description="An image upload is kept in memory up to this size, then spooled to a temp file.",
    )
    upload_part_bytes: int = Field(
        default=5 * MIB,
        ge=5 * MIB,
        description="Part size of the multipart upload a streamed file is sent in (S3 minimum 5 MiB). An upload holds "
        "at most two parts: one being sent to storage while the next fills.",
    )
    upload_idle_timeout_s: float = Field(
        default=60.0, gt=0, description="An upload that sends nothing this long is dropped."
    )
    max_concurrent_uploads: int = Field(
        default=16,
        ge=1,
        description="Storage calls of streamed uploads at once (threads); each upload has one part in flight.",
    )

    # Size limits per kind of evidence, and per complaint.
    max_image_bytes: int = Field(default=10 * MIB, gt=0)
    max_document_bytes: int = Field(default=20 * MIB, gt=0)
    max_audio_bytes: int = Field(default=50 * MIB, gt=0)
    max_video_bytes: int = Field(default=200 * MIB, gt=0)
    max_files_per_complaint: int = Field(default=20, ge=1)

    # Image metadata removal: images are decoded to be rewritten, so their pixel count is bounded.
    max_image_pixels: int = Field(
        default=50_000_000, gt=0, description="Larger images are refused (decompression bombs)."
    )
    image_rewrite_concurrency: int = Field(default=2, ge=1, description="Images decoded and rewritten at once.")

    # Presigned uploads straight to storage (quarantined until verified).
    upload_url_ttl_s: int = Field(
        default=900, ge=1, le=7 * 24 * 3600, description="Validity of a presigned upload URL."
    )
    upload_complete_within_s: int = Field(
        default=3600, ge=1, description="After this long an upload that was not completed is removed with its object."
    )

    # Clean-up of what was never attached to a complaint.
    orphan_ttl_s: int = Field(default=24 * 3600, ge=1, description="Unattached evidence older than this is removed.")
    cleanup_interval_s: float = Field(default=300.0, gt=0, description="Pause between two clean-up passes.")
    cleanup_lease_s: float = Field(default=120.0, gt=0, description="How long one replica holds an item it cleans up.")

    @model_validator(mode="after")
    def _upload_window(self) -> "Settings":
        if self.upload_complete_within_s < self.upload_url_ttl_s:
            raise ValueError("upload_complete_within_s must be at least upload_url_ttl_s")
        return self
