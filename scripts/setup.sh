#!/usr/bin/env bash
# Installs every Debian package ember needs, idempotently: one `apt-get update`
# only when something is missing, then one `apt-get install` of what is missing.
# Why each package is here: see README.md, "Dependencies".
set -euo pipefail

packages=(
  cmake ninja-build g++ gcc ccache pkg-config
  python3-yaml             # tools/opgen reads the op schema (runtime/ember/ops.yaml)
  clang-format             # scripts/check_format.sh: every C++ file as .clang-format makes it
  libopenblas-openmp-dev   # BLAS, OpenMP build: one thread pool shared with our kernels
  libdnnl-dev              # oneDNN: float GEMMs with AVX-512 kernels (2x Debian's OpenBLAS on an AMD Zen 5)
  libgtest-dev
  libcli11-dev            # command lines of the tools (ember-bench)
  nlohmann-json3-dev      # safetensors headers, ember-bench's JSON lines
  zlib1g-dev              # reading the gzip-compressed digits data set
  python3-sklearn         # ships the UCI digits data set (digits.csv.gz)
  wamerican               # ships the English word list (/usr/share/dict/words)
  fortunes                # the text examples/gpt_fortunes trains on (/usr/share/games/fortunes)
  llvm-19-dev libmlir-19-dev mlir-19-tools
  llvm-19-tools           # FileCheck and lit for the dialect tests
  clang-19 libclang-rt-19-dev libomp-19-dev  # libFuzzer and its OpenMP: the fuzz harnesses of tests/fuzz
  libopenmpi-dev openmpi-bin  # ember::distributed: collectives and data-parallel training over MPI
  pybind11-dev python3-pybind11 python3-numpy python3-pytest  # the Python package (import ember) and its tests
  libdlpack-dev            # the DLPack header: tensors shared with numpy and PyTorch without copies
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
