"""/readyz tells a client whether events can be stored, and the operator's log where and why not."""

from __future__ import annotations

import orjson


def logged(capsys) -> list[str]:
    return [orjson.loads(line)["message"] for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_readyz_names_no_path_to_clients_and_logs_it_once_per_outage(make_app, tmp_path, capsys):
    data_dir = tmp_path / "private-mount-name"
    client = make_app(data_dir=str(data_dir)).test_client()
    ready = client.get("/readyz")
    assert ready.get_json() == {"status": "ok"}
    capsys.readouterr()  # the start-up lines
    away = data_dir.rename(tmp_path / "away")  # renamed away, as an operator might by mistake
    data_dir.write_text("a file, not a directory")
    answers = [client.get("/readyz") for _ in range(3)]
    for answer in answers:
        assert answer.status_code == 503 and answer.get_json()["code"] == "storage_unavailable"
        assert answer.get_json()["message"].startswith("the data directory is not writable: ")
        assert "private-mount-name" not in answer.get_data(as_text=True)
    # The path is the operator's, in the log: once, not once per probe of the load balancer.
    [line] = logged(capsys)
    assert line.startswith(f"readyz: the data directory {data_dir} is not writable: ")
    data_dir.unlink()
    away.rename(data_dir)  # back: the same directory, so ready again without a restart
    assert client.get("/readyz").get_json() == {"status": "ok"}
    assert logged(capsys) == [f"readyz: the data directory {data_dir} is writable again"]
