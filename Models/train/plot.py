"""Plot the loss curves of both trainings into loss.png.

Reads target_log.csv and draft_log.csv (written by train.py). The target panel
shows training cross-entropy (a 20-step moving average over the noisy per-step
values) and the validation cross-entropy measured during training; the draft
panel shows its distillation KL to the target and its cross-entropy.
"""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).parent


def read_log(path: Path) -> dict:
    """Columns of a training log as float arrays (validation only where measured)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {key: np.array([float(r[key]) for r in rows]) for key in ("step", "train_loss", "train_ce")}
    val_rows = [r for r in rows if r["val_loss"]]
    columns["val_step"] = np.array([float(r["step"]) for r in val_rows])
    columns["val_loss"] = np.array([float(r["val_loss"]) for r in val_rows])
    return columns


def moving_average(values: np.ndarray, width: int = 20) -> np.ndarray:
    """Trailing mean over up to `width` values."""
    return np.array([values[max(0, i - width + 1):i + 1].mean() for i in range(values.size)])


def main() -> None:
    target, draft = read_log(HERE / "target_log.csv"), read_log(HERE / "draft_log.csv")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))

    left.plot(target["step"], target["train_loss"], color="tab:blue", alpha=0.25, label="train (per step)")
    left.plot(target["step"], moving_average(target["train_loss"]), color="tab:blue", label="train (20-step mean)")
    left.plot(target["val_step"], target["val_loss"], "o-", color="tab:red", label="validation")
    left.set_title("target: cross-entropy (nats/token)")

    right.plot(draft["step"], moving_average(draft["train_loss"]), color="tab:green",
               label="KL(target || draft), 20-step mean")
    right.plot(draft["step"], moving_average(draft["train_ce"]), color="tab:blue",
               label="train cross-entropy, 20-step mean")
    right.plot(draft["val_step"], draft["val_loss"], "o-", color="tab:red", label="validation cross-entropy")
    right.set_title("draft: distillation from the target")

    for axis in (left, right):
        axis.set_xlabel("step")
        axis.set_ylim(0, 7.5)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(HERE / "loss.png", dpi=110)
    print(f"wrote {HERE / 'loss.png'}")


if __name__ == "__main__":
    main()
