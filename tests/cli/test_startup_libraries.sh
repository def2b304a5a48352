#!/usr/bin/env bash
# What a plain `wedge run` maps at start-up (docs/performance.md, "Process start-up"): never the MPI
# library (libwedge_mpi.so and OpenMPI come in by dlopen under a launcher only), and with HDF5's
# static archives linked (WEDGE_STATIC_HDF5) neither libhdf5 nor the libcurl/OpenSSL/GnuTLS its
# S3 driver needs. Under a launcher without libwedge_mpi.so beside the executable: a clear error.
# Usage: test_startup_libraries.sh WEDGE STATIC_HDF5(0|1) WITH_MPI(0|1)
set -u
wedge=$1
static_hdf5=$2
with_mpi=$3
pass=0
fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAILED: $1"; fail=$((fail + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The objects the dynamic loader opens for a one-run process, dlopen included (LD_DEBUG=files).
LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$wedge" run --runs 1 --quiet >/dev/null 2>&1 ||
  bad "wedge run --runs 1 failed"
loaded=$(cat "$tmp"/ld.* 2>/dev/null | grep -o 'file=[^ ]*' | sort -u)
[ -n "$loaded" ] || bad "LD_DEBUG=files listed nothing"
if echo "$loaded" | grep -q -E 'libmpi|libopen-(rte|pal)|libwedge_mpi'; then
  bad "a plain run loads MPI: $(echo "$loaded" | grep -E 'mpi|libopen' | tr '\n' ' ')"
else
  ok "a plain run loads no MPI library"
fi
if [ "$static_hdf5" = 1 ]; then
  if echo "$loaded" | grep -q -E 'libhdf5|libcurl|libssl|libcrypto|libgnutls|libldap'; then
    bad "HDF5 is linked statically, yet: $(echo "$loaded" | grep -E 'hdf5|curl|ssl|crypto|gnutls|ldap' | tr '\n' ' ')"
  else
    ok "no shared HDF5, libcurl, OpenSSL, GnuTLS or LDAP"
  fi
fi

if [ "$with_mpi" = 1 ]; then
  # A copy of the executable with no libwedge_mpi.so beside it, "launched" (the launcher's
  # variable alone): exit 1 and the reason, not a crash.
  cp "$wedge" "$tmp/wedge"
  out=$(OMPI_COMM_WORLD_SIZE=1 LD_LIBRARY_PATH= "$tmp/wedge" run --runs 1 --quiet 2>&1)
  code=$?
  if [ $code = 1 ] && echo "$out" | grep -q "started by an MPI launcher, but wedge's MPI library could not be loaded: .*libwedge_mpi.so"; then
    ok "under a launcher without libwedge_mpi.so: exit 1 and the reason"
  else
    bad "under a launcher without libwedge_mpi.so: exit $code, output: $out"
  fi
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
