"""Synthetic data for the demo: a seeded information operation in the X archive CSV layout."""
from .operation import (
    X_ARCHIVE_COLUMNS,
    OperationConfig,
    operation_truth,
    simulate_operation,
    snowflake_time,
    truth_path,
    write_operation_csv,
)

__all__ = [
    "X_ARCHIVE_COLUMNS", "OperationConfig", "operation_truth", "simulate_operation", "snowflake_time",
    "truth_path", "write_operation_csv",
]
