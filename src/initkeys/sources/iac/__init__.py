"""Infrastructure as code: the readers and the records they produce (records.py)."""
