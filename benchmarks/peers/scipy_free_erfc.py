"""erfc for NumPy arrays without SciPy (not a dependency here): math.erfc lifted with
np.frompyfunc would be slow, so use the W. J. Cody-style rational approximation of Numerical
Recipes' erfcc (fractional error < 1.2e-7), which is what a NumPy user would paste in."""
import numpy as np


def erfc(x):
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    ans = t * np.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, ans, 2.0 - ans)
