"""Reading a data file in blocks of whole lines, and changing the few lines of a block that matter.

An erasure reads every line of the store to find a person's few: calling
Python once per line (a readline, a test, a write) costs several times what
decompressing and compressing the bytes does. So the files are read and
written a block (about a MiB of whole lines) at a time, and only the lines
that hold an id's bytes are looked at one by one (`Matcher.spans`); a block
with none is written as it was read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from ..store import datafiles

BLOCK_BYTES = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# A block of whole lines -> the block to write, lines dropped, lines changed.
BlockTransform = Callable[[bytes], tuple[bytes, int, int]]


def whole_line_blocks(stream: Readable) -> Iterator[bytes]:
    """Blocks of whole lines from `stream` (a last line with no newline, torn, ends the last block).

    :raises NotADataFile: a line longer than datafiles.MAX_LINE_BYTES, as line readers refuse it.
    """
    carry = b""
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            if carry:
                yield carry
            return
        data = carry + chunk
        end = data.rfind(b"\n") + 1
        if end == 0:
            if len(data) > datafiles.MAX_LINE_BYTES:
                raise datafiles.NotADataFile(f"a line longer than {datafiles.MAX_LINE_BYTES >> 20} MiB, which no "
                                             "stored event is: the file is not rewritten")
            carry = data
            continue
        carry = data[end:]
        yield data[:end]


def lines_in(block: bytes) -> int:
    """How many lines a block holds (a torn last one counted)."""
    return block.count(b"\n") + (0 if not block or block.endswith(b"\n") else 1)


def line_spans(block: bytes) -> list[tuple[int, int]]:
    """(start, end) of every line of `block`, newline included."""
    spans, start = [], 0
    while start < len(block):
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end + 1
        spans.append((start, end))
        start = end
    return spans


def changing(
    block: bytes, spans: list[tuple[int, int]], line_transform: Callable[[bytes], bytes | None]
) -> tuple[bytes, int, int]:
    """`block` with each line of `spans` (sorted, whole lines) through `line_transform`: kept, changed or dropped."""
    parts, position, dropped, changed = [], 0, 0, 0
    for start, end in spans:
        line = block[start:end]
        new = line_transform(line)
        if new is line:
            continue
        parts.append(block[position:start])
        position = end
        if new is None:
            dropped += 1
        else:
            parts.append(new)
            changed += 1
    if not parts:
        return block, 0, 0
    parts.append(block[position:])
    return b"".join(parts), dropped, changed


def per_line(line_transform: Callable[[bytes], bytes | None]) -> BlockTransform:
    """A block transform that passes every line to `line_transform` (for small files: dead letters)."""
    return lambda block: changing(block, line_spans(block), line_transform)
