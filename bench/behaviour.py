"""TIES on the demo's simulated operation: held-out AUC / PR-AUC and training seconds per encoder.

    .venv/bin/python bench/behaviour.py [--encoders cnn,deepset] [--seed 7]

The simulation (ml/simulation, the demo's defaults) is labelled from its own truth file: operation accounts
positive. Graph embeddings, then TIES, with the kind's defaults (ml/behaviour). The bidirectional LSTM (``rnn``)
is left out by default: about 1,000 s on two CPU cores at 512 steps. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from ml.behaviour import GraphConfig, TiesConfig, archive_interactions, train_behaviour
    from ml.simulation import OperationConfig, operation_truth, simulate_operation

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="cnn,deepset")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    config = OperationConfig(seed=args.seed)
    columns = archive_interactions(simulate_operation(config))
    operation = set(operation_truth(config)["operation_userids"])
    labels = {a: a in operation for a in set(columns["account"])}
    rows = {}
    for encoder in args.encoders.split(","):
        out = train_behaviour(columns, labels, GraphConfig(), TiesConfig(encoder=encoder))
        test = out["metrics"]["test"]
        rows[encoder] = {
            "auc": round(test["auc"], 4),
            "pr_auc": round(test["pr_auc"], 4),
            "test_accounts": test["n"],
            "graph_s": out["graph"]["seconds"],
            "ties_s": out["ties"]["seconds"],
            "total_s": out["seconds"],
        }
        print(f"{encoder}: {rows[encoder]}", flush=True)
    print(
        json.dumps(
            {
                "bench": "behaviour",
                "interactions": len(columns["account"]),
                "accounts": len(labels),
                "encoders": rows,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
