"""Environment files read as systemd's EnvironmentFile= reads them."""

from __future__ import annotations

import pytest

from collector.settings import SettingsError, envfile


@pytest.mark.parametrize(
    "text, expected",
    [
        ("COLLECTOR_RATE_LIMIT=1000 per minute\n", {"COLLECTOR_RATE_LIMIT": "1000 per minute"}),
        ("  A = spaced value  \n", {"A": "spaced value"}),
        ("# comment\n; comment too\n\nno equals sign\nA=1", {"A": "1"}),
        ("A=x # not a comment\n", {"A": "x # not a comment"}),
        ("A='single \"kept\" $HOME \\n'\n", {"A": 'single "kept" $HOME \\n'}),
        ('A="double \\"q\\" \\\\ \\$x \\n"\n', {"A": 'double "q" \\ $x \\n'}),
        ('A="two\nlines"\n', {"A": "two\nlines"}),
        ("A=one \\\ntwo\n", {"A": "one two"}),
        ("A=a\\ b\\\\c\\ \n", {"A": "a b\\c "}),
        ('A="x" y\n', {"A": "xy"}),
        ('A=b "c"\n', {"A": 'b "c"'}),
        ("A=\nB=\n", {"A": "", "B": ""}),
        ("A=1\nA=2\n", {"A": "2"}),
        ("1A=x\nA-B=x\nA B=x\nOK=y\n", {"OK": "y"}),
        ("# a comment \\\nA=1\n", {"A": "1"}),
        ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ("A='unterminated", {"A": "unterminated"}),
    ],
)
def test_assignments_are_read_as_systemd_reads_them(tmp_path, text, expected):
    path = tmp_path / "collector.env"
    path.write_text(text)
    assert envfile.read(path) == expected


def test_a_missing_or_non_utf8_file_is_said_not_valid_in_one_line(tmp_path):
    with pytest.raises(SettingsError, match=r"^--env-file '.*missing': No such file or directory$"):
        envfile.read(tmp_path / "missing")
    (tmp_path / "latin1.env").write_bytes(b"A=caf\xe9\n")
    with pytest.raises(SettingsError, match="not UTF-8"):
        envfile.read(tmp_path / "latin1.env")
