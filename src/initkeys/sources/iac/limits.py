"""Bounds on what an IaC scan reads, so that a hostile tree ends in a note, not a hang."""

from __future__ import annotations

# A file larger than this is an unreadable note (real templates and plans are far smaller;
# CloudFormation's own limit for a template is 1 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
# Files read in one scan, folders deep, and nesting inside one document.
MAX_FILES = 200_000
MAX_DEPTH = 64
MAX_NESTING = 200
# YAML aliases expanded in one template (a billion-laughs document stops here).
MAX_YAML_ALIASES = 1_000
# Local modules followed from one root (module calls nested this deep are a note).
MAX_MODULE_DEPTH = 16
