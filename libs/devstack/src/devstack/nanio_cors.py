"""nanio as browsers reach it: the same server with CORS answered, so a page can PUT a file straight to a
presigned URL (the web client's large uploads). nanio answers no preflight of its own; MinIO allows every
origin by default (``cors_allow_origin``) and S3 takes a bucket CORS rule (docs/architecture.md).

Run as ``python -m devstack.nanio_cors HOST PORT`` with nanio's own environment (``NANIO_DATA_DIR``,
``NANIO_ACCESS_KEY``, ``NANIO_SECRET_KEY``); :func:`devstack.standins.start_nanio` does.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi.middleware.cors import CORSMiddleware
from nanio.app import build_app

# A development stand-in on loopback: any origin (the pages' port is chosen per run). The signature in the URL is
# what authorises a request, not the origin; ETag is exposed for a client that completes multipart uploads.
ALLOWED_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
EXPOSED_HEADERS = ["ETag"]
PREFLIGHT_MAX_AGE_S = 600


def app() -> CORSMiddleware:
    return CORSMiddleware(
        build_app(),
        allow_origins=["*"],
        allow_methods=ALLOWED_METHODS,
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_S,
    )


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run("devstack.nanio_cors:app", factory=True, host=host, port=port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
