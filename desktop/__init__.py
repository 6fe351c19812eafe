"""Mnemoscope's desktop app: a PySide6 front end over `audit_core.run_audit`, no audit logic."""
