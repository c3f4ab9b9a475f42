"""Outputs that leave the machine: where findings are sent (Security Hub)."""
