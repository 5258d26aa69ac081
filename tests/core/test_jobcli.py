"""The one job command line (core.jobcli): parsing, settings, metadata, failures."""

import json
import textwrap

import pytest

from maskedntk.core import jobcli

JOBS = {
    "copy": jobcli.Job("work:copy", "copy the input to the output"),
    "fail": jobcli.Job("work:fail", "raise"),
}


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A throw-away study package ``toystudy`` with a module ``work`` holding two jobs."""
    pkg = tmp_path / "pkgs" / "toystudy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "work.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            def copy(args):
                text = "".join(Path(p).read_text() for p in args.inputs["src"])
                Path(args.output("dst")).write_text(text * args.settings["times"])
                return {"chars": len(text)}

            def fail(args):
                raise RuntimeError("boom")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    return tmp_path


def test_inputs_repeat_in_order_and_metadata_written(study):
    a, b = study / "a.txt", study / "b.txt"
    a.write_text("x")
    b.write_text("yz")
    dst, meta, log = study / "dst.txt", study / "meta.json", study / "job.log"
    argv = ["copy", "--config", '{"times": 2}', "--inputs", f"src={a}", f"src={b}"]
    argv += ["--out", f"dst={dst}", f"meta={meta}", "--log", str(log)]
    assert jobcli.main("toy", "toystudy", JOBS, argv) == 0
    assert dst.read_text() == "xyzxyz"
    m = json.loads(meta.read_text())
    assert m["job"] == "copy" and m["chars"] == 3 and m["seconds"] >= 0
    assert m["provenance"]["config"] == {"times": 2}
    assert set(m["provenance"]) == {"config", "versions", "git_commit"}
    assert "job toy copy finished" in log.read_text()


def test_yaml_file_of_a_whole_config_is_unwrapped_and_prepared(study):
    cfg = study / "toy.yaml"
    cfg.write_text("toy:\n  times: 3\n  other: 1\n")
    src = study / "a.txt"
    src.write_text("q")
    seen = []

    def prepare(settings, job):
        seen.append((dict(settings), job))
        return {"times": settings["times"]}

    argv = ["copy", "--config", str(cfg), "--inputs", f"src={src}", "--out", f"dst={study / 'o.txt'}"]
    jobcli.main("toy", "toystudy", JOBS, argv, prepare=prepare)
    assert seen == [({"times": 3, "other": 1}, "copy")]
    assert (study / "o.txt").read_text() == "qqq"


def test_failed_job_logs_traceback_and_writes_no_metadata(study):
    log, meta = study / "job.log", study / "meta.json"
    with pytest.raises(RuntimeError, match="boom"):
        jobcli.main("toy", "toystudy", JOBS, ["fail", "--config", "{}", "--out", f"meta={meta}", "--log", str(log)])
    assert "RuntimeError: boom" in log.read_text()
    assert not meta.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["copy", "--config", "{not json", "--out", "dst=x"], "not valid JSON"),
        (["copy", "--config", "missing.yaml", "--out", "dst=x"], "neither a JSON object nor a file"),
        (["copy", "--config", "{}", "--out", "dst"], "KEY=PATH"),
    ],
)
def test_bad_command_lines_name_the_option(study, argv, message):
    with pytest.raises(SystemExit, match=message):
        jobcli.main("toy", "toystudy", JOBS, argv)


def test_missing_input_or_output_key_is_named():
    args = jobcli.JobArgs("copy", {}, {"src": ["a", "b"]}, {"dst": "x"})
    with pytest.raises(SystemExit, match="exactly one src"):
        args.input("src")
    with pytest.raises(SystemExit, match="--out needs meta"):
        args.output("meta")


def test_extra_metadata_cannot_overwrite_common_fields():
    with pytest.raises(ValueError, match="seconds"):
        jobcli.metadata("j", {}, 1.0, {"seconds": 2})


def test_settings_file_must_hold_a_mapping(tmp_path):
    f = tmp_path / "s.json"
    f.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="expected a mapping"):
        jobcli.load_settings(str(f), "toy")
