"""Record the IOPub messages that a real ipykernel sends for a corpus of cells.

The recordings are the shared fixtures of the output-equivalence tests: jest replays them
through JupyterLab's OutputAreaModel to get the expected outputs, and pytest replays them
through the server's output reducer. Run `python scripts/record_iopub.py` to refresh them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

FIXTURES = Path(__file__).parent.parent / "jupyterlab_collab_exec" / "tests" / "fixtures" / "iopub"
OUTPUT_TYPES = {
    "stream",
    "display_data",
    "execute_result",
    "error",
    "clear_output",
    "update_display_data",
}

CORPUS: dict[str, list[str]] = {
    "streams_cr_bs": [
        "print('abcdef\\rXY')",
        "import time\nfor i in range(5):\n    print(f'\\rprogress {i * 25}%', end='', flush=True)\n"
        "    time.sleep(0.02)\nprint()",
        "print('abcd\\b\\bZ')\nprint('\\b\\bstart', flush=True)\nprint('x\\r\\ry\\r\\n')",
        "import sys\nsys.stdout.write('one\\r')\nsys.stdout.flush()\n"
        "sys.stdout.write('two\\rthr')\nsys.stdout.flush()\nsys.stdout.write('\\b\\bEE\\n')",
        "print('naïve ☃ 😀\\r😀')",
    ],
    "interleaved_streams": [
        "import sys\nfor i in range(4):\n    print(f'out {i}', flush=True)\n"
        "    print(f'err {i}', file=sys.stderr, flush=True)",
        "import sys\nprint('a', end='', flush=True)\n"
        "print('b', end='', file=sys.stderr, flush=True)\nprint('c', flush=True)",
    ],
    "clear_output": [
        "from IPython.display import clear_output\nprint('gone', flush=True)\nclear_output()\n"
        "print('kept', flush=True)",
        "from IPython.display import clear_output, display\nprint('old', flush=True)\n"
        "clear_output(wait=True)\nprint('new', flush=True)\nclear_output(wait=True)\n"
        "display('shown')",
        "from IPython.display import clear_output\nimport time\nfor i in range(3):\n"
        "    clear_output(wait=True)\n    print(f'frame {i}', flush=True)\n    time.sleep(0.01)",
    ],
    "update_display_two_cells": [
        "from IPython.display import display\nhandle = display('first', display_id=True)\n"
        "print('after first', flush=True)\nother = display('other', display_id=True)",
        "handle.update('updated from the second cell')\nprint('second cell', flush=True)\n"
        "display('shown again', display_id=handle.display_id)",
        "handle.update({'text/plain': 'third', 'text/html': '<b>third</b>'}, raw=True)\n"
        "other.update('other updated')",
    ],
    "errors_and_rich": [
        "print('before', flush=True)\n1 / 0",
        "from IPython.display import HTML, display\n"
        "display(HTML('<b>bold</b>'), metadata={'isolated': True})\n"
        "display({'application/json': {'a': 1, 'b': [1, 2]}, 'text/plain': 'json'}, raw=True,\n"
        "        metadata={'application/json': {'expanded': True}})",
        "class Rich:\n    def _repr_html_(self):\n        return '<i>rich</i>'\n"
        "    def _repr_markdown_(self):\n        return '*rich*'\nRich()",
        "raise ValueError('multi\\nline')",
    ],
}


async def record(cells: list[str]) -> list[dict[str, Any]]:
    manager = AsyncKernelManager(kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        recorded = []
        for index, code in enumerate(cells):
            msg_id = client.execute(code, stop_on_error=False)
            messages = []
            while True:
                msg = await client.get_iopub_msg(timeout=60)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                msg_type = msg["header"]["msg_type"]
                if msg_type == "status" and msg["content"]["execution_state"] == "idle":
                    break
                if msg_type in OUTPUT_TYPES:
                    messages.append({"msg_type": msg_type, "content": msg["content"]})
            recorded.append({"cell_id": f"cell-{index}", "code": code, "messages": messages})
        return recorded
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, cells in CORPUS.items():
        recorded = await record(cells)
        recording = {"name": name, "cells": recorded}
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(recording, indent=1, ensure_ascii=False) + "\n", "utf-8")
        count = sum(len(cell["messages"]) for cell in recorded)
        print(f"{path.name}: {len(cells)} cells, {count} messages")


if __name__ == "__main__":
    asyncio.run(main())
