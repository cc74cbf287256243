"""The benchmark workloads W1 to W7 and the outputs each must end with."""

from __future__ import annotations

import json
import math
from typing import Any

from bench.systems.base import Workload

RECONNECT_OUTPUT_BYTES = 50 * 1024


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def workloads(scale: float = 1.0) -> dict[str, Workload]:
    """Every workload; `scale` shrinks them for the quick run."""
    flood = max(1, int(200_000 * scale))
    progress = max(2, int(20_000 * scale))
    displays = max(2, int(2_000 * scale))
    cells = max(2, int(200 * scale))
    answers = max(2, int(200 * scale))
    reconnect_cells = max(2, int(200 * scale))
    bar_steps = max(2, int(10_000 * scale))
    slider_moves = max(2, int(5_000 * scale))
    line = "x" * 99 + "\n"
    big_output = line * (RECONNECT_OUTPUT_BYTES // len(line))
    return {
        "W1": Workload(
            key="W1",
            title=f"print flood of {flood:,} lines",
            cells=[f"for i in range({flood}):\n    print(i)"],
            expected=[[stream("".join(f"{i}\n" for i in range(flood)))]],
        ),
        "W2": Workload(
            key="W2",
            title=f"progress bar of {progress:,} \\r updates",
            cells=[
                "import sys\n"
                f"for i in range({progress}):\n"
                "    sys.stdout.write(f'\\rprogress {i}')\n"
                "    sys.stdout.flush()\n"
                "print()"
            ],
            expected=[[stream(f"progress {progress - 1}\n")]],
        ),
        "W3": Workload(
            key="W3",
            title=f"{displays:,} update_display_data",
            cells=[
                "handle = display('0', display_id=True)\n"
                f"for i in range(1, {displays}):\n"
                "    handle.update(str(i))"
            ],
            expected=[
                [
                    {
                        "output_type": "display_data",
                        "data": {"text/plain": repr(str(displays - 1))},
                        "metadata": {},
                    }
                ]
            ],
        ),
        "W4": Workload(
            key="W4",
            title=f"run-all of {cells} trivial cells",
            cells=[f"print({index})" for index in range(cells)],
            expected=[[stream(f"{index}\n")] for index in range(cells)],
        ),
        "W5": Workload(
            key="W5",
            title=f"{answers} input() answers",
            cells=[
                "import json, time\n"
                "latencies = []\n"
                f"for i in range({answers}):\n"
                "    sent = float(input(f'q{i}'))\n"
                "    latencies.append(time.time() - sent)\n"
                "print(json.dumps(latencies))"
            ],
            expected=None,
            inputs=answers,
        ),
        "W6": Workload(
            key="W6",
            title=f"reconnect to {reconnect_cells} cells x 50 KB of outputs",
            cells=["pass"] * reconnect_cells,
            expected=None,
            prefilled_outputs=[[stream(big_output)] for _ in range(reconnect_cells)],
        ),
        "W7": Workload(
            key="W7",
            title=f"widgets: a bar over {bar_steps:,} steps, a slider moved {slider_moves:,} times",
            cells=[
                "import time\n"
                "from ipywidgets import IntProgress, IntSlider\n"
                f"bar, slider = IntProgress(max={bar_steps}), IntSlider(max={slider_moves})\n"
                "display(bar, slider)\n"
                "started = time.perf_counter()\n"
                f"for i in range({bar_steps}):\n"
                "    bar.value = i + 1\n"
                f"for i in range({slider_moves}):\n"
                "    slider.value = i + 1\n"
                "print(f'kernel seconds: {time.perf_counter() - started}')"
            ],
            expected=None,
            widget_values={"IntProgressModel": bar_steps, "IntSliderModel": slider_moves},
        ),
    }


def normalized(value: Any) -> Any:
    """Outputs as plain JSON, with the floats that Yjs stores for integers made integers."""
    return json.loads(
        json.dumps(value, default=str),
        parse_float=lambda text: int(float(text)) if float(text).is_integer() else float(text),
    )


def outputs_match(actual: list[list[dict[str, Any]]], expected: list[list[dict[str, Any]]]) -> bool:
    strip = [[{k: v for k, v in o.items() if k != "execution_count"} for o in c] for c in actual]
    want = [[{k: v for k, v in o.items() if k != "execution_count"} for o in c] for c in expected]
    return bool(normalized(strip) == normalized(want))


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


KERNEL_SECONDS = "kernel seconds: "


def kernel_seconds(outputs: list[dict[str, Any]]) -> float | None:
    """How long the widget loop took in the kernel, as the W7 cell printed it."""
    for output in outputs:
        text = output.get("text", "") if output.get("output_type") == "stream" else ""
        for line in text.splitlines():
            if line.startswith(KERNEL_SECONDS):
                return float(line[len(KERNEL_SECONDS) :])
    return None


class WidgetValues:
    """The last `value` of each widget, by model name, as a browser's widget manager would
    hold it after the same comm messages: the reference of the widget workload."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    @property
    def comm_ids(self) -> list[str]:
        """The comms of the widget models seen."""
        return list(self._names)

    def apply(self, msg_type: str, content: dict[str, Any]) -> None:
        data = content.get("data", {})
        state = data.get("state", {}) if isinstance(data, dict) else {}
        comm_id = content.get("comm_id", "")
        if msg_type == "comm_open":
            self._names[comm_id] = state.get("_model_name", "")
        name = self._names.get(comm_id)
        if name and "value" in state:
            self.values[name] = state["value"]


def widget_values_match(values: dict[str, Any], expected: dict[str, int]) -> bool:
    """Whether the last `value` of each model name is the expected one."""
    return all(values.get(name) == value for name, value in expected.items())


def input_latencies_ms(outputs: list[dict[str, Any]]) -> list[float]:
    """The latencies the W5 cell printed, from its last stdout output."""
    for output in reversed(outputs):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            for candidate in reversed(text.strip().splitlines()):
                if candidate.startswith("["):
                    return [float(seconds) * 1000 for seconds in json.loads(candidate)]
    return []
