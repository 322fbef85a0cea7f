#!/usr/bin/env bash
# Builds the real Kubernetes control-plane binaries (kube-apiserver,
# kube-controller-manager, kube-scheduler), etcd and kwok (kwok + kwokctl) from
# the Go module proxy, for Ramp's throwaway local test cluster. Nothing is
# downloaded from anywhere but the Go module proxy.
#
# Versions are pinned in ./go.mod (k8s.io/kubernetes), ./etcd/go.mod
# (go.etcd.io/etcd/server/v3) and KWOK_VERSION below. Layout:
#
#   ${RAMP_CACHE_DIR:-$HOME/.cache/ramp}/
#     k8s/<k8s-version>/   kube-apiserver kube-controller-manager kube-scheduler
#                          + symlinks etcd, kwok, kwokctl into the folders below
#     etcd/<etcd-version>/ etcd
#     kwok/<kwok-version>/ kwok kwokctl
#     helm/<helm-version>/ helm             (only with `helm`: the chart's tests and gen:deploy)
#     kstatus/<cli-utils-version>/ kstatus  (only with `kstatus`: the GitOps health test's oracle)
#
# Binaries that already exist are skipped (a warm run does no Go work at all).
# Each binary is written under a temporary name and renamed into place, so an
# interrupted build never leaves a broken binary behind.
#
# Usage: test/cluster/build.sh [--print-dir | helm | kstatus]
#   --print-dir  print the k8s/<k8s-version> folder and exit (builds nothing)
#   helm         build only helm (HELM_VERSION below) and print the path of its binary
#   kstatus      build only ./kstatus (sigs.k8s.io/cli-utils pinned in ./kstatus/go.mod) and print its path
# The last line printed on success is that folder (with `helm`/`kstatus`: the binary).
# Env: RAMP_CACHE_DIR (cache root), RAMP_BUILD_JOBS (go build -p, default nproc).
set -euo pipefail

KWOK_VERSION=v0.8.0
# The newest helm v3 on the module proxy (`go list -m -versions helm.sh/helm/v3`); its go.mod has no
# replace directives, so `go install pkg@version` builds it with its own go.sum.
HELM_VERSION=v3.22.0
HELM_CLIENT_GO=v0.37.0 # k8s.io/client-go in helm's go.mod: the Kubernetes version helm assumes offline
MIN_GO_MINOR=26 # k8s.io/kubernetes v1.36, etcd v3.6.16, kwok v0.8.0 and helm v3.22 all say `go 1.26.0`

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Version of module $2 as required by the go.mod file $1 (no Go needed).
modver() {
  awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit } $1 == m { print $2; exit }' "$1"
}

K8S_VERSION="$(modver "$here/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(modver "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)"
KSTATUS_VERSION="$(modver "$here/kstatus/go.mod" sigs.k8s.io/cli-utils)"
if [[ -z "$K8S_VERSION" || -z "$ETCD_VERSION" || -z "$KSTATUS_VERSION" ]]; then
  echo "build.sh: cannot read pinned versions from $here/go.mod or $here/etcd/go.mod" >&2
  exit 1
fi

cache_root="${RAMP_CACHE_DIR:-$HOME/.cache/ramp}"
k8s_dir="$cache_root/k8s/$K8S_VERSION"
etcd_dir="$cache_root/etcd/$ETCD_VERSION"
kwok_dir="$cache_root/kwok/$KWOK_VERSION"
helm_dir="$cache_root/helm/$HELM_VERSION"
kstatus_dir="$cache_root/kstatus/$KSTATUS_VERSION"

case "${1:-}" in
  --print-dir) echo "$k8s_dir"; exit 0 ;;
  helm) [[ -x "$helm_dir/helm" ]] && { echo "$helm_dir/helm"; exit 0; } ;;
  kstatus) [[ -x "$kstatus_dir/kstatus" ]] && { echo "$kstatus_dir/kstatus"; exit 0; } ;;
  "") ;;
  *) echo "usage: $0 [--print-dir | helm | kstatus]" >&2; exit 64 ;;
esac

# --- Go toolchain check --------------------------------------------------------
# Use exactly the installed toolchain: never let `go` fetch another one.
export GOTOOLCHAIN=local
go_too_old() {
  echo "build.sh: $1" >&2
  echo "build.sh: install Go >= 1.$MIN_GO_MINOR (apt-get install golang or from go.dev)" >&2
  exit 2
}
command -v go >/dev/null 2>&1 || go_too_old "'go' not found in PATH"
go_version="$(go env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8
if [[ ! "$go_version" =~ ^go1\.([0-9]+)([.rc]|beta|$) ]]; then
  go_too_old "cannot tell the Go version (got '${go_version}')"
fi
if (( BASH_REMATCH[1] < MIN_GO_MINOR )); then
  go_too_old "found $go_version, which is too old"
fi

# --- common settings -----------------------------------------------------------
export CGO_ENABLED=0 # static binaries, like the upstream release builds; no C toolchain needed
export GOWORK=off    # never pick up a go.work from a parent directory
# GOCACHE / GOMODCACHE are left at their defaults so rebuilds are incremental.
jobs="${RAMP_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
# -mod=readonly: go.mod/go.sum here are complete and must not be rewritten.
# -buildvcs=false: the wrapper modules live in Ramp's git repo; its commit must
# not be stamped into (and change) the binaries.
common_flags=(-p "$jobs" -trimpath -buildvcs=false)

tmp_dirs=()
cleanup() { local d; for d in "${tmp_dirs[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT # make sure the EXIT trap runs when interrupted
trap 'exit 143' TERM

# new_tmp <dir>: sets $tmp to a private temp folder inside <dir>, so `mv` into
# <dir> is an atomic rename. (Not used via $(...): the subshell would lose tmp_dirs.)
new_tmp() {
  mkdir -p "$1"
  tmp="$(mktemp -d "$1/.build.XXXXXX")"
  tmp_dirs+=("$tmp")
}

# missing <dir> <name>...: the names that are not yet executable files in <dir>.
missing() {
  local dir="$1" n; shift
  for n in "$@"; do [[ -x "$dir/$n" && ! -L "$dir/$n" ]] || echo "$n"; done
}

# link <target> <name>: atomically (re)point $k8s_dir/<name> at <target>.
link() {
  local rel="../../${1#"$cache_root"/}"
  if [[ "$(readlink "$k8s_dir/$2" 2>/dev/null || true)" != "$rel" ]]; then
    ln -sfn "$rel" "$k8s_dir/.$2.link.$$"
    mv -Tf "$k8s_dir/.$2.link.$$" "$k8s_dir/$2"
  fi
}

started=$SECONDS

# --- helm (on its own) --------------------------------------------------------------
if [[ "${1:-}" == helm ]]; then
  echo "build.sh: building helm $HELM_VERSION" >&2
  new_tmp "$helm_dir"
  # Stamped as helm's Makefile does: its version, and the Kubernetes version of its client-go (+1
  # major, as there) for `helm template` and `helm lint` without a cluster.
  [[ "$HELM_CLIENT_GO" =~ ^v0\.([0-9]+)\. ]]
  ldflags=(-s -w "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    "-X helm.sh/helm/v3/internal/version.metadata=" "-X helm.sh/helm/v3/internal/version.gitTreeState=clean")
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=("-X $pkg.k8sVersionMajor=1" "-X $pkg.k8sVersionMinor=${BASH_REMATCH[1]}")
  done
  (cd "$here" && GOBIN="$tmp" go install "${common_flags[@]}" -ldflags="${ldflags[*]}" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  mv -f "$tmp/helm" "$helm_dir/helm"
  echo "build.sh: done in $((SECONDS - started))s" >&2
  echo "$helm_dir/helm"
  exit 0
fi

# --- kstatus (on its own) -----------------------------------------------------------
if [[ "${1:-}" == kstatus ]]; then
  echo "build.sh: building kstatus (sigs.k8s.io/cli-utils $KSTATUS_VERSION)" >&2
  new_tmp "$kstatus_dir"
  (cd "$here/kstatus" && go build "${common_flags[@]}" -mod=readonly -ldflags="-s -w" -o "$tmp/kstatus" .)
  mv -f "$tmp/kstatus" "$kstatus_dir/kstatus"
  echo "build.sh: done in $((SECONDS - started))s" >&2
  echo "$kstatus_dir/kstatus"
  exit 0
fi

# --- Kubernetes ------------------------------------------------------------------
mapfile -t todo < <(missing "$k8s_dir" kube-apiserver kube-controller-manager kube-scheduler)
if (( ${#todo[@]} )); then
  echo "build.sh: building Kubernetes $K8S_VERSION: ${todo[*]} (go build -p $jobs; a cold build takes a while)" >&2
  # Same stamping as upstream hack/lib/version.sh, so `--version` prints the real
  # version. buildDate is the release commit time from the module proxy, which
  # keeps the build reproducible. The git commit is not known from the proxy.
  build_date="$(cd "$here" && go list -mod=readonly -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  [[ "$K8S_VERSION" =~ ^v([0-9]+)\.([0-9]+)\. ]]
  ldflags=(-s -w)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=(
      "-X $pkg.gitVersion=$K8S_VERSION"
      "-X $pkg.gitMajor=${BASH_REMATCH[1]}"
      "-X $pkg.gitMinor=${BASH_REMATCH[2]}"
      "-X $pkg.gitTreeState=clean"
      "-X $pkg.gitCommit="
      "-X $pkg.buildDate=$build_date"
    )
  done
  new_tmp "$k8s_dir"
  pkgs=()
  for n in "${todo[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$n"); done
  # Tags as in upstream non-debug builds (hack/lib/golang.sh).
  (cd "$here" && go build -mod=readonly "${common_flags[@]}" \
    -tags=selinux,notest,grpcnotrace -ldflags="${ldflags[*]}" -o "$tmp/" "${pkgs[@]}")
  for n in "${todo[@]}"; do mv -f "$tmp/$n" "$k8s_dir/$n"; done
fi

# --- etcd --------------------------------------------------------------------------
if [[ -n "$(missing "$etcd_dir" etcd)" ]]; then
  echo "build.sh: building etcd $ETCD_VERSION" >&2
  new_tmp "$etcd_dir"
  # The etcd server's main package is the module root go.etcd.io/etcd/server/v3.
  # version.Version is a constant in go.etcd.io/etcd/api/v3; GitSHA is unknown here.
  (cd "$here/etcd" && go build -mod=readonly "${common_flags[@]}" \
    -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  mv -f "$tmp/etcd" "$etcd_dir/etcd"
fi

# --- kwok ----------------------------------------------------------------------------
# kwok's go.mod has no replace directives, so `go install pkg@version` works and
# uses kwok's own go.sum (verified against sum.golang.org) - no wrapper needed.
mapfile -t todo < <(missing "$kwok_dir" kwok kwokctl)
if (( ${#todo[@]} )); then
  echo "build.sh: building kwok $KWOK_VERSION: ${todo[*]}" >&2
  new_tmp "$kwok_dir"
  pkgs=()
  for n in "${todo[@]}"; do pkgs+=("sigs.k8s.io/kwok/cmd/$n@$KWOK_VERSION"); done
  # KubeVersion: the Kubernetes version kwokctl assumes by default (kwok's
  # hack/releases.sh stamps it the same way).
  (cd "$here" && GOBIN="$tmp" go install "${common_flags[@]}" \
    -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}" "${pkgs[@]}")
  for n in "${todo[@]}"; do mv -f "$tmp/$n" "$kwok_dir/$n"; done
fi

# One folder with everything, for kwokctl's --*-binary flags or starting by hand.
link "$etcd_dir/etcd" etcd
link "$kwok_dir/kwok" kwok
link "$kwok_dir/kwokctl" kwokctl

if (( SECONDS - started > 0 )); then
  echo "build.sh: done in $((SECONDS - started))s" >&2
fi
echo "$k8s_dir"
