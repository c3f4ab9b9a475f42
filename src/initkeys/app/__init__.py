"""The application layer: audits, remediation, rollback and the guard's simulation as
functions that take settings and an :class:`~initkeys.aws.AwsContext` and return results
or raise :class:`~initkeys.errors.InitkeysError` subclasses (never ``sys.exit``).

The command lines only parse options, call these, render and map to exit codes; the
public Python API (``initkeys.audit_account``…) is this layer. Submodules load lazily.
"""
