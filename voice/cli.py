"""`assist voice …`: recognize a WAV file, or a whole corpus with accuracy per language."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from voice.audio import AudioError
from voice.models import ModelUnavailable, SpeechModels
from voice.payees import PayeeBook
from voice.pipeline import STRATEGIES, Recognition, recognize_wav

CORPUS_COLUMNS = ("id", "lang", "intent", "slots", "file")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="voice_command", metavar="COMMAND")
    recognize = sub.add_parser(
        "recognize",
        help="recognize speech in a WAV file and print the intent as JSON",
        description="Print {text, intent, slots, engine, pass} as one JSON line per file.",
    )
    recognize.add_argument("file", nargs="?", help="audio file (any rate and channels; WAV)")
    recognize.add_argument("--lang", choices=("zh", "en"), default="zh")
    recognize.add_argument("--customer", default="zhangsan", help="whose saved payees names are matched against (demo customer)")
    recognize.add_argument(
        "--corpus",
        type=Path,
        help="TSV with columns id, lang, text, intent, slots, file (files "
        "relative to it): print each result, then accuracy per language",
    )
    recognize.add_argument(
        "--strategy", choices=STRATEGIES, default="auto", help="auto: grammar pass, free pass when unsure (default); or one pass"
    )
    recognize.set_defaults(func=run_recognize)


def run_recognize(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.corpus is None):
        print("assist voice recognize: give either FILE or --corpus", file=sys.stderr)
        return 2
    models = getattr(args, "models", None) or SpeechModels()  # `assist` passes the configured ones
    try:
        payees = PayeeBook.for_customer(args.customer)
        if args.corpus:
            return _corpus(models, args.corpus, payees, args.strategy)
        result = recognize_wav(models, args.file, args.lang, payees, strategy=args.strategy)
    except (ModelUnavailable, AudioError) as exc:
        print(f"assist voice recognize: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # an unknown customer, a malformed corpus
        print(f"assist voice recognize: {exc}", file=sys.stderr)
        return 2
    _print(result.to_json())
    return 0


def _corpus(models: SpeechModels, path: Path, payees: PayeeBook, strategy: str) -> int:
    rows = read_corpus(path)
    tally: dict[str, list[int]] = {}  # lang → [utterances, intents right, slots right]

    def recognize(row: dict) -> Recognition | AudioError:
        try:
            return recognize_wav(models, path.parent / row["file"], row["lang"], payees, strategy=strategy)
        except AudioError as exc:  # one bad file is a wrong answer, not the end of the run
            return exc

    # A file per core at once (Vosk decodes without the GIL), each printed in the corpus's
    # order as soon as it and those before it are done.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for row, result in zip(rows, pool.map(recognize, rows), strict=True):
            counts = tally.setdefault(row["lang"], [0, 0, 0])
            counts[0] += 1
            line = {"id": row["id"], "file": row["file"]}
            if isinstance(result, AudioError):
                _print({**line, "error": str(result)})
                continue
            _print({**line, **result.to_json()})
            counts[1] += result.intent == (row["intent"] or None)  # an empty cell: no intent
            counts[2] += result.slots == json.loads(row["slots"] or "{}")
    _print(
        {
            "summary": {
                lang: {"utterances": n, "intent_accuracy": round(i / n, 3), "slot_accuracy": round(s / n, 3)}
                for lang, (n, i, s) in tally.items()
            }
        }
    )
    return 0


def read_corpus(path: Path) -> list[dict]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            # QUOTE_NONE: the slots column is JSON and its quotes are data.
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = [c for c in CORPUS_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the corpus ({exc.strerror})") from None


def _print(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)
