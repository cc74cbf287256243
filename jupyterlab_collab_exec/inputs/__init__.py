"""`input()` and `getpass()`: the records of `collab_exec.inputs`, and exactly one answer
for each request."""
