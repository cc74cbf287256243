"""Output widgets that the server fills: it owns them for the requests it sends.

In JupyterLab the browser that ran a cell holds its request's message hooks, and an Output
widget whose `msg_id` names the request takes the request's output instead of the cell.
No browser holds that request here, so the server does the same: the output goes through
the same reducer as a cell's (`\\r`, `clear_output(wait=True)`), into the widget's
`outputs`.
"""

from __future__ import annotations

from typing import Any

from ..outputs.reducer import OutputReducer
from .model import WidgetModel

# What JupyterLab's Output widget takes from a request; it drops the rest, display
# updates included, as its message hook stops them.
CAPTURED_TYPES = frozenset({"stream", "display_data", "execute_result", "error", "clear_output"})


class OutputCapture:
    def __init__(self, max_output_bytes: int | None) -> None:
        self._max_bytes = max_output_bytes
        self._reducers: dict[tuple[str, str], OutputReducer] = {}

    def add(
        self, kernel_id: str, model: WidgetModel, msg_type: str, content: dict[str, Any]
    ) -> bool:
        """One output message of a request into the widget; returns whether it changed."""
        if msg_type not in CAPTURED_TYPES:
            return False
        key = (kernel_id, model.model_id)
        reducer = self._reducers.get(key)
        if reducer is None:
            reducer = self._reducers[key] = self._seeded(model)
        return reducer.add_message(msg_type, content)

    def outputs(self, kernel_id: str, model_id: str) -> list[dict[str, Any]] | None:
        reducer = self._reducers.get((kernel_id, model_id))
        return reducer.to_json() if reducer is not None else None

    def reset(self, kernel_id: str, model_id: str) -> None:
        """Someone else set the widget's outputs: start from theirs next time."""
        self._reducers.pop((kernel_id, model_id), None)

    def forget_kernel(self, kernel_id: str) -> None:
        for key in [key for key in self._reducers if key[0] == kernel_id]:
            del self._reducers[key]

    def _seeded(self, model: WidgetModel) -> OutputReducer:
        """A reducer holding what the widget shows already."""
        reducer = OutputReducer(self._max_bytes)
        outputs = model.state.get("outputs")
        for output in outputs if isinstance(outputs, list | tuple) else ():
            if not isinstance(output, dict):
                continue
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                reducer.add_stream(
                    str(output.get("name", "stdout")),
                    text if isinstance(text, str) else "".join(text),
                )
            else:
                reducer.add_output(dict(output))
        return reducer
