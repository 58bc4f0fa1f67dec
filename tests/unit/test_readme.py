"""The README is the settings reference a new operator reads: every variable config.py reads is in it,
and it does not call built what is built."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_config_reads_is_named_in_the_readme():
    read = set(re.findall(r'(?:_env_\w+|environ\.get)\("([A-Z][A-Z0-9_]+)"', (ROOT / "config.py").read_text()))
    readme = (ROOT / "README.md").read_text()
    assert read and sorted(name for name in read if f"`{name}`" not in readme) == []


def test_the_readme_does_not_list_the_patient_records_as_not_built():
    not_built = re.search(r"Not built yet:([^\n]*(?:\n[^\n]+)*)", (ROOT / "README.md").read_text())
    missing = not_built.group(1).lower() if not_built else ""
    for built in ("medical records", "patient images", "patient management", "assignments"):
        assert built not in missing, built
