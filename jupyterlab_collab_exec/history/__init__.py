"""The run history: every settled request of a notebook kept in SQLite beside the
YStore, never in the doc, browsable and restorable."""
