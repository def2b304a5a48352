#!/usr/bin/env bash
# Installs the Debian packages wedge needs to build, test and run.
# Idempotent: does nothing (and needs no network) when every package is present.
# Works as root, or as a user with sudo.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config git
  # C++ libraries
  libtbb-dev libboost-random-dev librandom123-dev libhdf5-dev hdf5-tools
  catch2 libbenchmark-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  pybind11-dev
  # JSON documents and CSV files of design points (experiments/)
  nlohmann-json3-dev libcsv-dev
  # multi-node runs (mpirun)
  libopenmpi-dev openmpi-bin
  # fuzzing (make fuzz, and the fuzz smoke run of make test: the CMake preset fuzz)
  clang-14 libclang-rt-14-dev
  # the results fuzzer's seeds, the same bytes in every clone: h5repack's clock frozen (faketime)
  faketime
  # make bench: the peak memory of wedge alone (GNU time's %M)
  time
  # formatting (.clang-format)
  clang-format
  # fault tests: fsync order observed with strace; setpriv (util-linux) drops root for read-only output
  strace util-linux
  # Python side (Debian's interpreter: /usr/bin/python3)
  python3 python3-dev python3-numpy python3-h5py python3-pandas python3-matplotlib python3-xarray
  python3-pytest
  # analysis: posterior tails and normal quantiles (scipy), CART for scenario discovery (sklearn)
  python3-scipy python3-sklearn
  # the report's test in a real browser (headless Chromium driven by Selenium)
  chromium chromium-driver python3-selenium
  # pip install . into a virtual environment (pyproject.toml), xarray.open_dataset on results files
  python3-venv python3-setuptools python3-wheel python3-h5netcdf
  # `python3 -m wedge explore`: its charts (Chart.js 3.9, served from /usr/share/javascript/chart.js)
  libjs-chart.js
  # examples/tutorial.ipynb, executed by the tests (nbclient) on a Jupyter kernel (ipykernel)
  python3-nbclient python3-ipykernel
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: missing packages (${missing[*]}) and not root and no sudo to install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
