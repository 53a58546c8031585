
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.plugins.catalog import PLUGINS
from drone_kit.step.docs import BEGIN_MARKER, END_MARKER, settings_markdown, update_readme
from tests.paths import ROOT


def test_every_plugin_readme_settings_section_is_up_to_date():
    result = CliRunner().invoke(cli, ["plugin", "readme", str(ROOT / "plugins"), "--check"])
    assert result.exit_code == 0, result.output


SERVICES = {"shim"}  # containerized, but services rather than pipeline steps


def test_every_plugin_has_a_folder_and_every_folder_a_plugin():
    folders = {p.name for p in (ROOT / "plugins").iterdir() if p.is_dir()}
    assert folders == set(PLUGINS) | SERVICES
    for folder in folders:
        assert ((ROOT / "plugins" / folder / "Dockerfile").is_file()
                and (ROOT / "plugins" / folder / "README.md").is_file())


def test_readme_check_fails_when_a_section_is_stale(tmp_path):
    name, plugin = next(iter(PLUGINS.items()))
    (tmp_path / name).mkdir()
    (tmp_path / name / "README.md").write_text(f"# {name}\n\n{BEGIN_MARKER}\n| old |\n{END_MARKER}\n\nExamples stay.\n")
    result = CliRunner().invoke(cli, ["plugin", "readme", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.stderr
    assert CliRunner().invoke(cli, ["plugin", "readme", str(tmp_path)]).exit_code == 0
    text = (tmp_path / name / "README.md").read_text()
    assert settings_markdown(plugin) in text and "Examples stay." in text and "| old |" not in text


def test_update_readme_appends_a_section_when_there_is_none():
    plugin = next(iter(PLUGINS.values()))
    updated = update_readme("# x\n\nIntro.\n", plugin)
    assert updated.startswith("# x\n\nIntro.\n\n## Settings\n\n" + BEGIN_MARKER)
    assert update_readme(updated, plugin) == updated
