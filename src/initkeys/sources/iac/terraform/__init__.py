"""The Terraform reader: ``.tf`` (HCL native syntax, read by :mod:`.native`) and ``.tf.json`` files,
their variables, ``.tfvars``, locals, ``count``/``for_each``, local modules and the
registry modules whose inputs initkeys records (:mod:`.registry`)."""

from __future__ import annotations

from initkeys.sources.iac.terraform.configuration import read_configurations

__all__ = ["read_configurations"]
