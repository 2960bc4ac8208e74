"""Copy one store into another (`footnote db migrate-to URL`: SQLite into PostgreSQL, or back), then prove it.

Both stores are opened (so both are migrated to the same schema version), the target must be empty, and every
table is copied as it is, ids included, in the order the migrations created them (a table is created after those
its foreign keys point to). The proof: the same row count in every table, and a sample of rows (random, by
primary key) identical column by column. No discord import.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from store import Store, StoreError, row_dict

BATCH = 5000


class TransferError(StoreError):
    """The copy cannot start (different schema versions, a target that is not empty) or did not verify."""


@dataclass
class TableReport:
    name: str
    source_rows: int
    target_rows: int
    sampled: int
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and not self.mismatches


@dataclass
class TransferReport:
    source: str
    target: str
    schema_version: int
    tables: list[TableReport]

    @property
    def ok(self) -> bool:
        return all(table.ok for table in self.tables)

    def lines(self) -> list[str]:
        out = [f"{self.source} → {self.target} (schema version {self.schema_version})"]
        for table in self.tables:
            mark = "ok" if table.ok else "MISMATCH"
            out.append(
                f"  {table.name:<18} {table.source_rows:>9,} rows → {table.target_rows:>9,}, "
                f"{table.sampled} sampled rows identical: {mark}"
            )
            out.extend(f"    {problem}" for problem in table.mismatches[:5])
        return out


async def _count(store: Store, table: str) -> int:
    row = await store._one(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row is not None else 0


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-6)
    return a == b


async def copy_store(
    source: Store,
    target: Store,
    *,
    sample: int = 200,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _line: None,
) -> TransferReport:
    """Copy every row of `source` into the empty `target`, then verify counts and `sample` rows per table."""
    version = await source.schema_version()
    if await target.schema_version() != version:
        raise TransferError(
            f"schema versions differ ({source.describe()}: {version}, {target.describe()}: "
            f"{await target.schema_version()}): run the same Footnote version against both"
        )
    source_tables = await source.tables()
    target_tables = await target.tables()
    if set(source_tables) != set(target_tables):
        raise TransferError(
            f"the two databases have different tables: {sorted(source_tables)} vs {sorted(target_tables)}"
        )
    busy = [name for name in target_tables if await _count(target, name)]
    if busy:
        raise TransferError(
            f"{target.describe()} is not empty ({', '.join(busy)} have rows): migrate into a new, empty database"
        )
    for table, columns in source_tables.items():
        key = await source.primary_key(table)
        order = ", ".join(key or columns)
        total = await _count(source, table)
        copied = 0
        while copied < total:
            rows = await source._read(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, copied)
            )
            if not rows:
                break
            await target.copy_rows(table, columns, [tuple(row[c] for c in columns) for row in rows])
            copied += len(rows)
        progress(f"{table}: {copied:,} rows copied")
    await target.after_copy()
    return await verify(source, target, sample=sample, seed=seed)


async def verify(source: Store, target: Store, *, sample: int = 200, seed: int = 0) -> TransferReport:
    """Compare row counts of every table, and `sample` rows per table (chosen at random by primary key)."""
    chooser = random.Random(seed)
    reports = []
    for table, columns in (await source.tables()).items():
        source_rows, target_rows = await _count(source, table), await _count(target, table)
        key = await source.primary_key(table) or columns
        keys = [tuple(row[c] for c in key) for row in await source._read(f"SELECT {', '.join(key)} FROM {table}")]
        picked = chooser.sample(keys, min(sample, len(keys)))
        report = TableReport(table, source_rows, target_rows, len(picked))
        where = " AND ".join(f"{c} = ?" for c in key)
        for values in picked:
            expected = await source._one(f"SELECT * FROM {table} WHERE {where}", values)
            found = await target._one(f"SELECT * FROM {table} WHERE {where}", values)
            if found is None:
                report.mismatches.append(f"{table} {dict(zip(key, values, strict=True))}: missing in the target")
                continue
            a, b = row_dict(expected), row_dict(found)
            different = [c for c in columns if not _same(a.get(c), b.get(c))]
            if different:
                report.mismatches.append(
                    f"{table} {dict(zip(key, values, strict=True))}: {', '.join(different)} differ"
                )
        reports.append(report)
    return TransferReport(source.describe(), target.describe(), await source.schema_version(), reports)
