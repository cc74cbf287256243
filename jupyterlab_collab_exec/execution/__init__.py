"""The execution service and its core: the per-kernel runner, the request ledger,
reconciliation, and the guard of the server's maps."""
