"""Infrastructure as code: readers that turn Terraform and CloudFormation files into
the records of :mod:`initkeys.sources.iac.records`.

- :mod:`.walk` finds the files under the paths given and hands each to its reader;
- :mod:`.terraform` reads Terraform folders (``.tf``, ``.tf.json``), local modules and
  the registry modules it knows;
- :mod:`.plan` reads a plan as ``terraform show -json PLAN`` writes it;
- :mod:`.cloudformation` reads CloudFormation, SAM and CDK templates (YAML or JSON).

Every reader takes the file's name as shown to the user (``shown``) and returns an
:class:`~initkeys.sources.iac.records.IacScan`; a file it cannot read is an unreadable
:class:`~initkeys.sources.iac.records.IacNote` in that scan, never an exception.
"""
