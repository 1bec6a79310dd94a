"""Settings of the evidence service; each field is read from the environment variable of the same name, upper-cased."""

from greenchannel.settings import ServiceSettings
from pydantic import Field, SecretStr

MIB = 1024 * 1024


class Settings(ServiceSettings):
    service_name: str = "evidence"

    # Object storage (MinIO in production, any S3-compatible server elsewhere).
    s3_endpoint: str = Field(default="127.0.0.1:9000", description="host:port of the S3 API.")
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    s3_bucket: str = Field(default="greenchannel-evidence", min_length=3, max_length=63)
    s3_region: str = "us-east-1"
    s3_public_endpoint: str = Field(
        default="",
        description="host:port that download links are signed for, when clients reach the storage by another "
        "name than the service does (e.g. behind a proxy); empty: the same as s3_endpoint.",
    )
    s3_timeout_s: float = Field(default=30.0, gt=0)

    # Download links and uploads.
    download_link_ttl_s: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    upload_spool_memory_bytes: int = Field(
        default=1 * MIB, ge=1, description="An upload is kept in memory up to this size, then spooled to a temp file."
    )

    # Size limits per kind of evidence.
    max_image_bytes: int = Field(default=10 * MIB, gt=0)
    max_document_bytes: int = Field(default=20 * MIB, gt=0)
    max_audio_bytes: int = Field(default=50 * MIB, gt=0)
    max_video_bytes: int = Field(default=200 * MIB, gt=0)
