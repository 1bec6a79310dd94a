"""Evidence rules without I/O: accepted media types, size limits, content inspection, filename hygiene."""
