"""Trust: what the server wrote into each notebook, as digests that browsers check what they
hold against (docs/security.md)."""
