"""The server's own connection to each kernel, local or behind a gateway, as a stream
of typed events; and the kernel's state in the doc."""
