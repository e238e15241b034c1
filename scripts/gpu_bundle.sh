#!/usr/bin/env bash
# Builds mone with CUDA here (nvcc, no GPU needed) and bundles what a GPU machine needs to run the
# CUDA tests and benchmarks into one folder, for scripts/gpu_check.sh to run there.
#
#   bash scripts/gpu_bundle.sh          # build into build-gpu/, bundle into out/gpu_bundle/
#
# The GPU machine is assumed to have the NVIDIA driver, the CUDA 13 runtime, cuBLAS, cuRAND and
# NCCL, and glibc; nothing else of this machine's Debian. So the bundle holds:
#   bin/        every test binary, the benchmarks and `mone`, stripped
#   lib/        every shared library those binaries load except glibc and the CUDA libraries
#               above (found with ldd: Abseil, protobuf, OpenBLAS, libgomp, libgfortran, PCRE2,
#               libcrypto, ...), plus libcudart (small, and the version we built with); libstdc++
#               and libgcc_s in lib/stdcxx/, for a machine whose own are older
#   configs/, tests/data/, tests/tokenizer/data/   the files the tests read
#   SOURCE_DIR, BINARY_DIR   the paths compiled into the tests (gpu_check.sh links them to the bundle)
# It is staged in out/gpu_bundle_files/, checked there (a bundled binary must start with only the
# bundle and the system's CUDA libraries, under env -i; ldd must find nothing else outside it), and
# packed into out/gpu_bundle/mone_gpu_bundle.tar.gz, which must stay under 64 MiB with the working
# tree (what the device tool carries; OpenBLAS alone is 35 MB unpacked). out/ is ignored by git:
# carry the folder with run(..., carry=["out/gpu_bundle"]); gpu_check.sh unpacks it there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${MONE_GPU_BUILD_DIR:-build-gpu}
stage=out/gpu_bundle_files
bundle=${MONE_GPU_BUNDLE:-out/gpu_bundle}
limit_mib=64

# ---- build: Release, CUDA on, sm_90, tests and benchmarks ----
export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-$(command -v ccache || true)}
export CMAKE_CUDA_COMPILER_LAUNCHER=${CMAKE_CUDA_COMPILER_LAUNCHER:-$(command -v ccache || true)}
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMONE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DMONE_BUILD_TESTS=ON -DMONE_BUILD_BENCH=ON > "$build/gpu_bundle.configure.log" 2>&1 ||
  { cat "$build/gpu_bundle.configure.log"; exit 1; }
cmake --build "$build" -j "${MONE_JOBS:-$(nproc)}"

# ---- binaries ----
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib"
bins=("$build"/bin/mone "$build"/bin/mone_bench_* "$build"/tests/test_*)
for b in "${bins[@]}"; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  strip -o "$stage/bin/$(basename "$b")" "$b"
done

# ---- shared libraries: everything ldd resolves except glibc, the driver and the CUDA libraries
# the GPU machine has (libcudart is bundled anyway) ----
system_lib='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libresolv|libcuda\.so|libcublas|libcublasLt|libcurand|libnccl)'
for b in "$stage"/bin/*; do
  ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $system_lib ]] && continue
  cp -L "$path" "$stage/lib/$name"
done
# Libraries that bundled libraries load in turn (e.g. libgfortran under OpenBLAS) came with ldd's
# transitive listing above; strip their symbol tables too.
strip --strip-unneeded "$stage"/lib/* 2>/dev/null || true
# The C++ runtime goes in lib/stdcxx/, used there only when the machine's own libstdc++ is older
# than ours (a newer one serves our binaries, and ours needs glibc 2.36). STDCXX_NEEDED names the
# newest symbol version our binaries ask of it.
mkdir -p "$stage/lib/stdcxx"
mv "$stage"/lib/libstdc++.so.6 "$stage"/lib/libgcc_s.so.1 "$stage/lib/stdcxx/"
for f in "$stage"/bin/* "$stage"/lib/*.so*; do objdump -T "$f" | grep -oE 'GLIBCXX_[0-9.]+' || true; done |
  sort -Vu | tail -1 > "$stage/STDCXX_NEEDED"

# ---- data the tests read, and the paths compiled into them ----
cp -r configs "$stage/configs"
mkdir -p "$stage/tests"
cp -r tests/data "$stage/tests/data"
[ -d tests/tokenizer/data ] && mkdir -p "$stage/tests/tokenizer" && cp -r tests/tokenizer/data "$stage/tests/tokenizer/data"
echo "$root" > "$stage/SOURCE_DIR"
(cd "$build" && pwd) > "$stage/BINARY_DIR"
git rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || true

# ---- checks: a binary starts with the bundle alone; nothing else resolves outside it ----
outside=$(for b in "$stage"/bin/*; do
  env -i LD_LIBRARY_PATH="$root/$stage/lib:$root/$stage/lib/stdcxx" ldd "$b"
done | awk '$2 == "=>" { print $1, $3 }' | sort -u | grep -vE "^[^ ]+ $root/$stage/lib/" |
  grep -vE "$system_lib" || true)
if [ -n "$outside" ]; then
  echo "gpu_bundle: these libraries resolve outside the bundle and are not glibc or CUDA:" >&2
  echo "$outside" >&2
  exit 1
fi
if ! env -i LD_LIBRARY_PATH="$root/$stage/lib:$root/$stage/lib/stdcxx" "$stage/bin/test_cuda" --test-suite=cuda --no-version \
    > "$build/gpu_bundle.check.log" 2>&1; then
  cat "$build/gpu_bundle.check.log" >&2
  echo "gpu_bundle: the bundled test_cuda did not run with the bundle's libraries" >&2
  exit 1
fi
tail -3 "$build/gpu_bundle.check.log"

# ---- pack, and check the size ----
rm -rf "$bundle"
mkdir -p "$bundle"
tar -C "$stage" -czf "$bundle/mone_gpu_bundle.tar.gz" .
size_kib=$(du -sk "$bundle" | cut -f1)
tree_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
echo "gpu_bundle: $(ls "$stage/bin" | wc -l) binaries, $(find "$stage/lib" -name '*.so*' | wc -l) libraries," \
     "$(du -sk "$stage" | cut -f1) KiB unpacked, $size_kib KiB packed in $bundle; working tree $tree_kib KiB"
if [ $((size_kib + tree_kib)) -gt $((limit_mib * 1024)) ]; then
  echo "gpu_bundle: the bundle and the working tree are over $limit_mib MiB together" >&2
  du -sk "$stage"/bin/* "$stage"/lib/* | sort -n | tail -8 >&2
  exit 1
fi
echo "gpu_bundle: ready; on the GPU machine run: bash scripts/gpu_check.sh"
