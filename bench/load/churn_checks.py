"""What a W9 cell's outputs must hold after a run under churn, put in a form that two runs
can be compared in: the clock lines, each once and in order, and the outputs with the
times and the answerer's name taken out."""

from __future__ import annotations

import re
from typing import Any

from bench.load.client import CLOCK_LINE

ANSWERER = re.compile(r"client \d+")
PROGRESS = re.compile(r"progress (\d+)")


def clock_times(outputs: list[dict[str, Any]]) -> list[float]:
    """The times of the clock lines in the cell's stdout, in the order stored."""
    stdout = "".join(stream_texts(outputs, "stdout"))
    return [float(printed) for printed in CLOCK_LINE.findall(stdout)]


def stream_texts(outputs: list[dict[str, Any]], name: str) -> list[str]:
    return [
        str(output.get("text", ""))
        for output in outputs
        if output.get("output_type") == "stream" and output.get("name") == name
    ]


def outputs_summary(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The outputs without what differs from run to run (the times, who answered).

    Where ipykernel's flush timer splits stdout (the unflushed `hello` line) falls between
    the progress bar's writes depends on the machine's load, so stdout is compared as one
    text and the progress bar by the values it showed."""
    stdout = "".join(stream_texts(outputs, "stdout"))
    progress = [
        int(value) for text in stream_texts(outputs, "stderr") for value in PROGRESS.findall(text)
    ]
    return {
        "stdout": ANSWERER.sub("client *", CLOCK_LINE.sub("t=*", stdout)),
        "stdin": [ANSWERER.sub("client *", text) for text in stream_texts(outputs, "stdin")],
        "progress shown last": progress[-1] if progress else None,
        "progress in order": progress == sorted(progress),
        "displays": sum(output.get("output_type") == "display_data" for output in outputs),
        "others": [
            output.get("output_type")
            for output in outputs
            if output.get("output_type") not in ("stream", "display_data")
        ],
    }


def output_problems(
    outputs: list[dict[str, Any]], ticks: int, reference: list[dict[str, Any]]
) -> list[str]:
    """What is wrong with a cell's outputs: clock lines lost, doubled or out of order, or
    outputs that differ from those of the same cell run without churn."""
    problems = []
    times = clock_times(outputs)
    if len(times) != ticks:
        problems.append(f"{len(times)} clock lines instead of {ticks}")
    if len(set(times)) != len(times):
        problems.append(f"{len(times) - len(set(times))} clock lines doubled")
    if times != sorted(times):
        problems.append("clock lines out of order")
    mine, calm = outputs_summary(outputs), outputs_summary(reference)
    for key in calm:
        if mine[key] != calm[key]:
            problems.append(f"{key} differs from the run without churn")
    return problems
