"""`assist voice recognize`, run as the operator runs it: a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from voice import models

pytestmark = pytest.mark.zh_model


def assist(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assist.cli", "voice", "recognize", *args],
        capture_output=True,
        text=True,
        cwd=models.REPO,
        timeout=300,
    )


def test_one_file_prints_one_json_object(corpus_path):
    run = assist(str(corpus_path.parent / "d04.wav"), "--lang", "zh", "--customer", "zhangsan")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) == {"text", "intent", "slots", "engine", "pass"}
    assert (out["intent"], out["slots"], out["engine"], out["pass"]) == (
        "transfer",
        {"payee": "儿子", "amount": 3000},
        "vosk",
        "grammar",
    )
    assert "儿子" in run.stdout  # ensure_ascii=False


def test_absent_slots_are_omitted(corpus_path):
    run = assist(str(corpus_path.parent / "d11.wav"))
    assert json.loads(run.stdout)["slots"] == {}


def test_the_corpus_prints_every_file_then_a_summary(corpus_path, corpus):
    run = assist("--corpus", str(corpus_path))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines[:-1]] == [row["id"] for row in corpus]
    assert all({"id", "file", "text", "intent", "slots", "engine", "pass"} <= set(line) for line in lines[:-1])
    summary = lines[-1]["summary"]
    assert summary["zh"]["utterances"] == 30 and summary["en"]["utterances"] == 10
    assert summary["zh"]["intent_accuracy"] >= 0.95 and summary["en"]["intent_accuracy"] >= 0.9


def test_a_corpus_with_a_bad_file_reports_it_and_goes_on(tmp_path, corpus_path):
    tsv = tmp_path / "corpus.tsv"
    tsv.write_text(
        "id\tlang\ttext\tintent\tslots\tfile\tnote\n"
        f"a\tzh\t取消\tcancel\t{{}}\t{corpus_path.parent / 'd24.wav'}\textra column\n"
        "b\tzh\t返回\tback\t{}\tmissing.wav\t\n",
        encoding="utf-8",
    )
    run = assist("--corpus", str(tsv))
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines[0]["intent"] == "cancel"
    assert "no such file" in lines[1]["error"]
    assert lines[2]["summary"]["zh"] == {"utterances": 2, "intent_accuracy": 0.5, "slot_accuracy": 0.5}


@pytest.mark.parametrize(
    "args,code,message",
    [
        (("nope.wav",), 1, "no such file"),
        (("x.wav", "--customer", "nobody"), 2, "unknown customer"),
        ((), 2, "either FILE or --corpus"),
    ],
)
def test_errors_are_one_clear_line_and_an_exit_code(args, code, message):
    run = assist(*args)
    assert run.returncode == code
    assert message in run.stderr and "Traceback" not in run.stderr


def test_an_unusable_model_setting_is_a_clear_error(tmp_path, corpus_path):
    run = subprocess.run(
        [sys.executable, "-m", "assist.cli", "voice", "recognize", str(corpus_path.parent / "d01.wav")],
        capture_output=True,
        text=True,
        cwd=models.REPO,
        timeout=300,
        env={**os.environ, "ASSIST_VOSK_MODEL_ZH": str(tmp_path)},
    )
    assert run.returncode == 1
    assert "ASSIST_VOSK_MODEL_ZH" in run.stderr and "Traceback" not in run.stderr
