#!/usr/bin/env bash
# Installs the Debian packages llcbench builds and tests with. Idempotent: when everything is
# already installed it only checks (well under a second) and changes nothing.
# Usage: bash tools/install-deps.sh            (as root, or with sudo available)
#        LLCB_WITH_PYTHON=0 bash tools/install-deps.sh   to skip the Python analysis packages
set -euo pipefail

packages=(
  build-essential cmake git pkg-config
  libopenmpi-dev openmpi-bin            # MPI control plane
  libhdf5-dev hdf5-tools                # result store
  libspdlog-dev libfmt-dev              # logging
  libboost-program-options-dev          # CLI and INI configs
  libgtest-dev libgmock-dev             # tests
  libopenblas-dev libopenblas-openmp-dev  # BLAS + LAPACK; the OpenMP build is the one linked
)
if [[ "${LLCB_WITH_PYTHON:-1}" != 0 ]]; then
  packages+=(python3 python3-numpy python3-h5py python3-pandas python3-xarray python3-h5netcdf python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
