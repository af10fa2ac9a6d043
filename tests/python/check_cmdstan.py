"""Reads sdelang's CmdStan CSV files with cmdstanpy and ArviZ and checks the draws.

Usage: python check_cmdstan.py DIR CHAINS DRAWS NAME...
Loads DIR/chain_*.csv with cmdstanpy.from_csv, then arviz.from_cmdstanpy and, where this
ArviZ has it, arviz.from_cmdstan; checks shapes and that every reader sees the same values,
and prints one JSON object: per variable ArviZ's mean, ess_bulk, ess_tail, r_hat and
mcse_mean (for the caller to compare with sdelang's summary), plus "arviz" (the version) and
"readers" (the readers that loaded the files).

Works with ArviZ 0.x (InferenceData; tested with 0.23.4) and 1.x (DataTree, arviz-base and
arviz-stats; tested with 1.3.0 on Python 3.12). ArviZ 1.x has no from_cmdstan: its only
CmdStan reader is from_cmdstanpy, so with 1.x "readers" lists cmdstanpy's and that one.
cmdstanpy 1.3.2 either way.

Tail ESS is computed at the 5% and 95% quantiles, the definition of Stan, ArviZ 0.x and
sdelang. ArviZ 1.x's own default is different (the quantiles 1 - p and p with
p = rcParams["stats.ci_prob"] = 0.89, also in its summary), so with 1.x that value is
reported too, as "ess_tail_arviz_default", for information.
"""
import glob
import json
import os
import sys

import numpy as np
import cmdstanpy
import arviz as az

MAJOR = int(az.__version__.split(".")[0])


def posterior_values(data, base):
    """The (chain, draw, ...) array of one variable, from InferenceData or DataTree."""
    return np.asarray(data.posterior[base].values)


def main():
    d, chains, draws = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = sys.argv[4:]
    files = sorted(glob.glob(os.path.join(d, "chain_*.csv")))
    fit = cmdstanpy.from_csv(files)
    assert fit.chains == chains, fit.chains
    arr = fit.draws()  # (draws, chains, columns)
    assert arr.shape[0] == draws and arr.shape[1] == chains, arr.shape
    cols = list(fit.column_names)
    assert cols[:7] == ["lp__", "accept_stat__", "stepsize__", "treedepth__",
                        "n_leapfrog__", "divergent__", "energy__"], cols
    step = fit.step_size
    assert step is not None and len(step) == chains, step
    readers = {"cmdstanpy.from_csv": fit, "arviz.from_cmdstanpy": az.from_cmdstanpy(posterior=fit)}
    if hasattr(az, "from_cmdstan"):
        readers["arviz.from_cmdstan"] = az.from_cmdstan(posterior=files)
    loaded = [v for k, v in readers.items() if k.startswith("arviz.")]
    out = {"arviz": az.__version__, "readers": list(readers)}
    for name in names:
        base, _, idx = name.partition(".")
        munged = f"{base}[{idx}]" if idx else base
        col = arr[:, :, cols.index(munged)].T  # (chain, draw)
        for data in loaded:
            a = posterior_values(data, base)
            assert a.shape[:2] == (chains, draws), a.shape
            if idx:
                a = a[..., int(idx) - 1]
            assert np.array_equal(a, col), name
        # (chain, draw) arrays: the layout both ArviZ generations take for plain arrays.
        out[name] = {
            "mean": float(np.mean(col)),
            "ess_bulk": float(az.ess(col, method="bulk")),
            "ess_tail": float(az.ess(col, method="tail", prob=(0.05, 0.95))),
            "r_hat": float(az.rhat(col)),
            "mcse_mean": float(az.mcse(col, method="mean")),
        }
        if MAJOR >= 1:
            # The array interface of ArviZ 1.x requires prob; its default is rcParams'.
            p = az.rcParams["stats.ci_prob"]
            out[name]["ess_tail_arviz_default"] = float(az.ess(col, method="tail", prob=p))
    for data in loaded:
        assert "lp" in data.sample_stats.data_vars, list(data.sample_stats.data_vars)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
