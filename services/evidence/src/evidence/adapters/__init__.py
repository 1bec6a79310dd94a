"""The evidence service's ways out: object storage (MinIO SDK) and the MongoDB repository."""
