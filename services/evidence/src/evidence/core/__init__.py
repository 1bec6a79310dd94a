"""The evidence use cases: uploads (direct and presigned), receipts, download links, re-verification."""
