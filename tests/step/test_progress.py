import io

from drone_kit.step.progress import CLEAR_LINE, StatusLines


def test_in_a_build_log_each_change_is_one_line():
    out = io.StringIO()
    lines = StatusLines(out, live=False)
    lines.status("web", "0/2 ready")
    lines.status("web", "0/2 ready")
    lines.event("pod a: running")
    lines.status("web", "1/2 ready")
    lines.finish()
    assert out.getvalue() == "0/2 ready\npod a: running\n1/2 ready\n"


def test_on_a_terminal_the_status_is_redrawn_in_place():
    out = io.StringIO()
    lines = StatusLines(out, live=True)
    lines.status("web", "0/2 ready")
    lines.status("api", "1/1 ready")
    lines.event("pod a: running")
    lines.finish()
    assert out.getvalue() == (f"{CLEAR_LINE}0/2 ready{CLEAR_LINE}0/2 ready | 1/1 ready"
                              f"{CLEAR_LINE}pod a: running\n0/2 ready | 1/1 ready{CLEAR_LINE}")


def test_a_terminal_is_detected():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert StatusLines(Terminal()).live and not StatusLines(io.StringIO()).live
