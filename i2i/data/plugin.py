"""i2i's built-in datasets, contributed through the same hook as any plugin's."""

from __future__ import annotations

from i2i.data.datasets import AlignedDataset, PairedFoldersDataset
from i2i.data.parquet import ParquetDataset
from i2i.data.synthetic import SyntheticShapesDataset
from i2i.data.unpaired import UnpairedFoldersDataset, UnpairedView
from i2i.hookspecs import hookimpl


@hookimpl
def i2i_datasets() -> dict[str, type]:
    """The aligned (A|B) format, paired A/ B/ folders, hub-style parquet files, the procedural
    quickstart set, and the unpaired datasets (two folders; any paired dataset as unpaired)."""
    return {
        "aligned": AlignedDataset,
        "paired_folders": PairedFoldersDataset,
        "parquet": ParquetDataset,
        "synthetic_shapes": SyntheticShapesDataset,
        "unpaired_folders": UnpairedFoldersDataset,
        "unpaired": UnpairedView,
    }
