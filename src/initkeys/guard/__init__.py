"""The event guard: catch a setup key the moment it is made, not at the next audit.

An EventBridge rule sends IAM's ``CreateAccessKey`` and ``CreateLoginProfile``
calls (from CloudTrail) to a Lambda function; for each, the guard reads the
user live, judges it as the audit does, and, when a console user just got a
setup key, notifies an SNS topic (``notify``) or deactivates the key first
(``deactivate``)::

    event dict ──parse_event──▶ GuardEvent ──Guard.decide──▶ GuardDecision ──Guard.act──▶ SNS
                                  (pure)     (reads the user;      (pure)      (deactivate,
                                              decide() is pure)                 re-verified)

- :mod:`~initkeys.guard.event`, :mod:`~initkeys.guard.decide`,
  :mod:`~initkeys.guard.message`, :mod:`~initkeys.guard.config`: pure;
- :mod:`~initkeys.guard.runner`: the only boto3 user (through the sources'
  reader and remediation's executor);
- :mod:`~initkeys.guard.lambda_handler`: the Lambda entry point;
- :mod:`~initkeys.guard.cli`: ``initkeys guard simulate`` and ``package``;
- :mod:`~initkeys.guard.package`: the Lambda code zip.

Nothing here but ``cli`` imports click or rich: the Lambda runtime has neither.
Import from the modules (``from initkeys.guard.runner import Guard``): this file
imports nothing, so the command line's ``initkeys guard`` loads only what it runs.
"""
