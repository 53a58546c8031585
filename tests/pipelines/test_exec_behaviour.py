"""drone_kit exec runs commands as Drone's runner does: each printed as written and run once, and
the steps of a depends_on graph at the same time (one after another without depends_on)."""

from __future__ import annotations

from drone_kit.clients.containers import ContainerEngine
from drone_kit.pipelines.local_run import run_exec
from tests.pipelines.exec_support import checkout

ONCE = """\
kind: pipeline
name: once
steps:
  - name: once
    image: {base}
    commands:
      - echo "side effect $(echo ran >> calls.txt; echo done) home=$HOME"
      - grep -c ran calls.txt
"""

# Each of left and right waits (15 s at most) for the other to have started: run one after the
# other, the first would give up and fail. join must see both finished.
WAIT_FOR = 'i=0; until [ -f {other}.started ]; do i=$((i+1)); [ $i -lt 150 ] || exit 9; sleep 0.1; done'
GRAPH = """\
kind: pipeline
name: graph
steps:
  - name: left
    image: {base}
    commands:
      - touch left.started
      - WAIT_LEFT
      - echo saw right running
      - touch left.done
  - name: right
    image: {base}
    commands:
      - touch right.started
      - WAIT_RIGHT
      - echo saw left running
      - touch right.done
  - name: join
    image: {base}
    depends_on: [left, right]
    commands:
      - ls left.done right.done
""".replace("WAIT_LEFT", WAIT_FOR.format(other="right")).replace("WAIT_RIGHT", WAIT_FOR.format(other="left"))

SERIAL = """\
kind: pipeline
name: serial
steps:
  - name: one
    image: {base}
    commands: [sleep 1, touch one.done]
  - name: two
    image: {base}
    commands: [test -f one.done, echo after one]
"""


def _run(engine, repo) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_exec(repo / ".drone.yml", None, {}, {}, False, False, ContainerEngine(engine.client), lines.append)
    return code, lines


def test_each_command_is_printed_as_written_and_runs_once(engine, base_image, tmp_path):
    code, lines = _run(engine, checkout(tmp_path, ONCE.format(base=base_image)))
    assert code == 0, lines
    assert '[once] + echo "side effect $(echo ran >> calls.txt; echo done) home=$HOME"' in lines
    assert "[once] side effect done home=/" in lines
    assert "[once] + grep -c ran calls.txt" in lines
    assert "[once] 1" in lines  # the $(…) appended one line: it ran once, not once more for the trace


def test_independent_steps_of_a_graph_run_at_the_same_time(engine, base_image, tmp_path):
    code, lines = _run(engine, checkout(tmp_path, GRAPH.format(base=base_image)))
    assert code == 0, "\n".join(lines)
    assert "[left] saw right running" in lines and "[right] saw left running" in lines
    assert "[join] left.done" in lines and "[join] right.done" in lines
    assert lines.index("[join] + ls left.done right.done") > max(
        lines.index("[left] + touch left.done"), lines.index("[right] + touch right.done"))
    assert lines[0] == "pipeline 'graph': 3 steps, as a graph (depends_on)"
    assert lines[-1] == "pipeline 'graph': success"
    assert all(line.startswith(("[left] ", "[right] ", "[join] ")) for line in lines[1:-1]), lines


def test_without_depends_on_steps_run_one_after_another(engine, base_image, tmp_path):
    code, lines = _run(engine, checkout(tmp_path, SERIAL.format(base=base_image)))
    assert code == 0, "\n".join(lines)
    assert "[two] after one" in lines
    assert lines.index("[one] + touch one.done") < lines.index("[two] + test -f one.done")


EARLY_EXIT = """\
kind: pipeline
name: early
steps:
  - name: enough
    image: {base}
    commands: [echo nothing more to do, exit 78]
  - name: later
    image: {base}
    commands: [echo should not run]
"""


def test_exit_code_78_passes_and_skips_the_steps_to_come(engine, base_image, tmp_path):
    code, lines = _run(engine, checkout(tmp_path, EARLY_EXIT.format(base=base_image)))
    assert code == 0, "\n".join(lines)
    assert "[later] skipped (enough exited 78, which skips the steps to come)" in lines
    assert "[later] should not run" not in lines
    assert lines[-1] == "pipeline 'early': success"
