"""Reading a Parquet file's wanted columns, one row group at a time, after checking that
they fit in memory.

Parquet stores columns apart, so a column the plan never uses need never be unpacked: a
file with a 1 GB compressed column of scans beside the codes peaked at 2.28 GB when read
whole, and one of 4 GB unpacked did not fit at all. The footer declares each column's
unpacked size, so a file whose wanted columns cannot fit is refused before reading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from audit_core.data.column_names import check_columns, check_unique_names
from audit_core.errors import DataError

_BATCH_ROWS = 65_536  # rows converted at a time: a row group's share of memory, not the file's


def available_memory() -> int | None:
    """Bytes of memory the system can give now without swapping (Linux MemAvailable, or
    what a container's memory limit leaves if less; else the free pages; else psutil where
    installed), or None where none is known: then nothing is refused."""
    known = [m for m in (_meminfo_available(), _cgroup_room()) if m is not None]
    if known:
        return min(known)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        pass
    try:
        import psutil  # not a dependency: used only where installed (macOS, Windows)
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def resident_bytes() -> int:
    """This process's resident set (Linux); 0 where it cannot be read."""
    return _proc_bytes("/proc/self/status", "VmRSS:") or 0


def _meminfo_available() -> int | None:
    return _proc_bytes("/proc/meminfo", "MemAvailable:")


def _proc_bytes(path: str, key: str) -> int | None:
    """A "KEY: N kB" line of a /proc file, in bytes; None where it cannot be read."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """A cgroup v2 limit less its usage: /proc/meminfo shows the host's memory, not the
    container's ("max" means no limit)."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0) if limit != "max" else None
    except (OSError, ValueError):
        return None


def open_parquet(path: Path, wanted: list[str] | None, roles: Mapping[str, str] | None = None):
    """(the open file, the columns to read, the file's column names): every column when
    `wanted` is None. Refuses repeated or missing names, and a read that cannot fit in
    memory, before any data is read (the footer alone is)."""
    import pyarrow.parquet as pq

    name = path.name
    parquet = pq.ParquetFile(path)
    # pandas stores a frame's index as a column ('__index_level_0__'): not a data column.
    index = {c for c in ((parquet.schema_arrow.pandas_metadata or {}).get("index_columns") or [])
             if isinstance(c, str)}
    found = [str(n) for n in parquet.schema_arrow.names if str(n) not in index]
    columns = [str(n) for n in parquet.schema_arrow.names] if wanted is None else list(dict.fromkeys(wanted))
    check_columns(name, columns, found, roles=roles)
    check_unique_names(name, found, wanted or ())
    needed = declared_size(parquet, columns)
    available = available_memory()
    if available is not None and needed > available:
        what = ("its columns" if wanted is None
                else "the column" + ("s " if len(columns) > 1 else " ") + ", ".join(f"'{c}'" for c in columns))
        raise DataError(f"{name}: {what} hold {format_size(needed)} once unpacked (as the file's "
                        f"Parquet metadata declares), more than the {format_size(available)} of "
                        "memory available now; split the file, drop the columns the audit does "
                        "not read, or use a machine with more memory")
    return parquet, columns, found


def parquet_values(parquet, columns: list[str]) -> dict[str, list]:
    """Python values of `columns`, converted a batch at a time (the unpacked Arrow data of
    one batch at most is held beside the values kept); unread columns are never unpacked."""
    values: dict[str, list] = {c: [] for c in columns}
    for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
        for c in columns:
            values[c].extend(batch.column(c).to_pylist())
    return values


def parquet_frame(parquet, columns: list[str]):
    """`columns` as a pandas frame (Arrow types mapped as pandas maps them)."""
    import pyarrow as pa

    batches = list(parquet.iter_batches(batch_size=_BATCH_ROWS, columns=columns))
    schema = parquet.schema_arrow
    table = (pa.Table.from_batches(batches) if batches else
             pa.schema([schema.field(c) for c in columns]).empty_table())
    return table.to_pandas()


def declared_size(parquet, columns: list[str]) -> int:
    """Unpacked bytes of `columns` over every row group, from the footer (nothing read)."""
    leaves = _leaf_ranges(parquet.schema_arrow)
    metadata = parquet.metadata
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for column in columns:
            first, count = leaves[column]
            total += sum(row_group.column(i).total_uncompressed_size for i in range(first, first + count))
    return total


def _leaf_ranges(schema) -> dict[str, tuple[int, int]]:
    """Each top-level column's leaf columns in the footer (a list or struct column is
    stored as several), as (first index, count)."""
    ranges, at = {}, 0
    for field in schema:
        count = _leaves(field.type)
        ranges[str(field.name)] = (at, count)
        at += count
    return ranges


def _leaves(kind) -> int:
    import pyarrow as pa

    if pa.types.is_map(kind):
        return _leaves(kind.key_type) + _leaves(kind.item_type)
    if pa.types.is_struct(kind):
        return sum(_leaves(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _leaves(kind.value_type)
    return 1


def format_size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"
