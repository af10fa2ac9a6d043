"""Reads sdelang's CmdStan CSV files with cmdstanpy and ArviZ and checks the draws.

Usage: python check_cmdstan.py DIR CHAINS DRAWS NAME...
Loads DIR/chain_*.csv with cmdstanpy.from_csv, then arviz.from_cmdstanpy and arviz.from_cmdstan,
checks shapes and that every reader sees the same values, and prints ArviZ's summary as JSON
(one object per variable: mean, sd, ess_bulk, ess_tail, r_hat) for the caller to compare.
Tested with cmdstanpy 1.3.2 and arviz 0.23.4 (ArviZ 1.x needs Python >= 3.12).
"""
import glob
import json
import os
import sys

import numpy as np
import cmdstanpy
import arviz as az


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
    idata = az.from_cmdstanpy(posterior=fit)
    idata2 = az.from_cmdstan(posterior=files)
    out = {}
    for name in names:
        base, _, idx = name.partition(".")
        a = idata.posterior[base].values
        b = idata2.posterior[base].values
        assert a.shape[:2] == (chains, draws), a.shape
        if idx:
            a, b = a[..., int(idx) - 1], b[..., int(idx) - 1]
        munged = f"{base}[{idx}]" if idx else base
        col = arr[:, :, cols.index(munged)].T
        assert np.array_equal(a, col), name
        assert np.array_equal(b, col), name
        out[name] = {
            "mean": float(np.mean(col)),
            "ess_bulk": float(az.ess(np.asarray(col), method="bulk")),
            "ess_tail": float(az.ess(np.asarray(col), method="tail")),
            "r_hat": float(az.rhat(np.asarray(col))),
            "mcse_mean": float(az.mcse(np.asarray(col), method="mean")),
        }
    assert "lp" in idata.sample_stats or "lp" in idata.sample_stats.data_vars
    print(json.dumps(out))


if __name__ == "__main__":
    main()
