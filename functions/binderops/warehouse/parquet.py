"""Put Parquet files together without decoding them: their row groups, copied byte for byte.

A Parquet file is ``PAR1``, its column chunks (and bloom filters), then its footer: a
Thrift-encoded ``FileMetaData`` that says where each chunk starts, its length, and
``PAR1``. Files written alike (same schema, same writer) are joined by copying each one's
body and writing one footer listing every row group, each offset moved by where its file's
body now starts. A month of launches is then its days' files joined in a few hundred
milliseconds, where decoding and re-encoding five million rows takes seconds; a late launch
re-encodes its day only.

The footer is read and written with Apache Thrift's compact protocol, field by field, so
every field (statistics, encodings, key-value metadata) passes through unchanged except
the offsets named below (from ``parquet.thrift``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import Drop

MAGIC = b"PAR1"
# FileMetaData fields.
FILE_NUM_ROWS, FILE_ROW_GROUPS = 3, 4
# FileMetaData fields that must agree between the files joined: version, schema, key-value
# metadata, column orders.
FILE_SAME = (1, 2, 5, 7)
# RowGroup: columns, file_offset, ordinal.
GROUP_COLUMNS, GROUP_OFFSET, GROUP_ORDINAL = 1, 5, 7
# ColumnChunk: file_offset (0 when unset), meta_data; a page index holds offsets of its own.
CHUNK_OFFSET, CHUNK_META = 2, 3
CHUNK_PAGE_INDEX = (4, 6)
# ColumnMetaData: data_page_offset, index_page_offset, dictionary_page_offset,
# bloom_filter_offset.
META_OFFSETS = (9, 10, 11, 14)


class ParquetJoinError(Drop):
    """The files cannot be joined as they are (different schemas, page indexes, not Parquet):
    retrying the same files cannot help; the next publish run writes damaged days again."""

    kind = "parquet_join"


@dataclass
class Field:
    """A Thrift field as read: its wire type and its value (a struct is a dict of fields by
    id, a list an (element type, items) pair)."""

    type: int
    value: Any


class _Codec:
    """Reads and writes Thrift values of any type on one compact protocol."""

    def __init__(self, data: bytes | None = None) -> None:
        from thrift.protocol.TCompactProtocol import TCompactProtocol
        from thrift.Thrift import TType
        from thrift.transport.TTransport import TMemoryBuffer

        self.protocol = p = TCompactProtocol(
            TMemoryBuffer(data) if data is not None else TMemoryBuffer()
        )
        self.struct, self.stop, self.lists = TType.STRUCT, TType.STOP, (TType.LIST, TType.SET)
        self.readers = {
            TType.BOOL: p.readBool,
            TType.BYTE: p.readByte,
            TType.I16: p.readI16,
            TType.I32: p.readI32,
            TType.I64: p.readI64,
            TType.DOUBLE: p.readDouble,
            TType.STRING: p.readBinary,
        }
        self.writers = {
            TType.BOOL: p.writeBool,
            TType.BYTE: p.writeByte,
            TType.I16: p.writeI16,
            TType.I32: p.writeI32,
            TType.I64: p.writeI64,
            TType.DOUBLE: p.writeDouble,
            TType.STRING: p.writeBinary,
        }

    def read(self, kind: int) -> Any:
        p = self.protocol
        if kind == self.struct:
            fields: dict[int, Field] = {}
            p.readStructBegin()
            while True:
                _, field_type, number = p.readFieldBegin()
                if field_type == self.stop:
                    break
                fields[number] = Field(field_type, self.read(field_type))
                p.readFieldEnd()
            p.readStructEnd()
            return fields
        if kind in self.lists:
            element, size = p.readListBegin()
            items = [self.read(element) for _ in range(size)]
            p.readListEnd()
            return element, items
        if kind not in self.readers:
            raise ParquetJoinError(f"unexpected Thrift type {kind} in a Parquet footer")
        return self.readers[kind]()

    def write(self, kind: int, value: Any) -> None:
        p = self.protocol
        if kind == self.struct:
            p.writeStructBegin("")
            for number in sorted(value):
                field = value[number]
                p.writeFieldBegin("", field.type, number)
                self.write(field.type, field.value)
                p.writeFieldEnd()
            p.writeFieldStop()
            p.writeStructEnd()
        elif kind in self.lists:
            element, items = value
            p.writeListBegin(element, len(items))
            for item in items:
                self.write(element, item)
            p.writeListEnd()
        else:
            self.writers[kind](value)


def read_footer(data: bytes) -> tuple[dict[int, Field], int]:
    """A Parquet file's ``FileMetaData`` and where its footer starts."""
    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise ParquetJoinError("not a Parquet file (no PAR1 at both ends)")
    length = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - length
    if start < 4:
        raise ParquetJoinError("a Parquet footer longer than its file")
    codec = _Codec(data[start:-8])
    return codec.read(codec.struct), start


def encode_footer(metadata: dict[int, Field]) -> bytes:
    codec = _Codec()
    codec.write(codec.struct, metadata)
    return codec.protocol.trans.getvalue()


def _move(group: dict[int, Field], shift: int, ordinal: int) -> None:
    """Move a row group's offsets by ``shift`` bytes and renumber it."""
    if GROUP_OFFSET in group:
        group[GROUP_OFFSET].value += shift
    if GROUP_ORDINAL in group:
        group[GROUP_ORDINAL].value = ordinal
    for chunk in group[GROUP_COLUMNS].value[1]:
        if any(number in chunk for number in CHUNK_PAGE_INDEX):
            raise ParquetJoinError("a column chunk has a page index, whose offsets would move")
        if chunk.get(CHUNK_OFFSET) and chunk[CHUNK_OFFSET].value:
            chunk[CHUNK_OFFSET].value += shift
        meta = chunk[CHUNK_META].value
        for number in META_OFFSETS:
            if number in meta:
                meta[number].value += shift


def join(parts: Sequence[Path], path: Path) -> int:
    """Write ``path``: the rows of ``parts``, in order, in one Parquet file. Returns rows."""
    if not parts:
        raise ParquetJoinError("no Parquet files to join")
    first: dict[int, Field] | None = None
    groups: list[dict[int, Field]] = []
    rows = 0
    with open(path, "wb") as out:
        out.write(MAGIC)
        for part in parts:
            data = part.read_bytes()
            metadata, footer = read_footer(data)
            if first is None:
                first = metadata
            elif any(metadata.get(number) != first.get(number) for number in FILE_SAME):
                raise ParquetJoinError(f"{part.name} does not have the same schema as the first")
            shift = out.tell() - len(MAGIC)
            out.write(memoryview(data)[len(MAGIC) : footer])
            for group in metadata[FILE_ROW_GROUPS].value[1]:
                _move(group, shift, len(groups))
                groups.append(group)
            rows += metadata[FILE_NUM_ROWS].value
        assert first is not None  # parts is not empty
        first[FILE_NUM_ROWS].value = rows
        first[FILE_ROW_GROUPS].value = (first[FILE_ROW_GROUPS].value[0], groups)
        footer_bytes = encode_footer(first)
        out.write(footer_bytes)
        out.write(len(footer_bytes).to_bytes(4, "little"))
        out.write(MAGIC)
    return rows
