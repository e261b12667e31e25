"""Rebuild ``checks/text_words.json`` (the word-boundary list of ``text.typo``) from jieba's dictionary.

    python scripts/build_text_words.py /path/to/jieba/dict.txt

Run it after editing ``checks/text_typos.json``. jieba (MIT License) is needed only here, at build
time: the audit reads the derived list and never loads jieba. Kept: words of 2-5 Han characters with
frequency >= 2 that start with a non-first character or end with a non-last character of a 2-3
character wrong form, minus words that are or contain a wrong form (jieba's corpus holds misspellings
such as 布署, which must not excuse themselves).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(dict_path: str) -> int:
    entries = json.loads((ROOT / "checks/text_typos.json").read_text("utf-8"))["entries"]
    every = {e["wrong"] for e in entries}
    short = [w for w in every if len(w) <= 3]
    starts, ends, parts = set(), set(), set()
    for w in short:
        for k in range(1, len(w)):
            starts.add(w[k])
            ends.add(w[k - 1])
            parts.update((w[:k], w[k:]))
    starts.update(w[-1] for w in every)  # long forms: a word may start at the last character (科学发展现|状)
    keep = []
    for line in Path(dict_path).read_text("utf-8").splitlines():
        word, freq, *_ = line.split()
        if not (2 <= len(word) <= 5 and int(freq) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in word)):
            continue
        if any(w in word for w in every):
            continue
        if word[0] in starts or word[-1] in ends or word in parts:
            keep.append(word)
    out = {
        "version": 1,
        "about": "Word list for the word-boundary test of text.typo (wrong forms of 2-3 characters): a dictionary hit "
                 "is dropped when it straddles a word boundary (按|排序, 可以|经常, 发布|署名). Derived from jieba 0.42.1 "
                 "dict.txt (MIT License, https://github.com/fxsjy/jieba) by scripts/build_text_words.py.",
        "license": "MIT (jieba)",
        "words": sorted(set(keep)),
    }
    (ROOT / "checks/text_words.json").write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), "utf-8")
    print(len(out["words"]), "words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
