#!/bin/bash
# `make demo`: boot the VM and walk through shmr at work.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${KERNEL:-6.1}
adds=(--add "$top/tools/demo-vm.sh")
[ -f "$top/tools/demo-lib.sh" ] && adds+=(--add "$top/tools/demo-lib.sh")
exec "$top/tools/shmr-vm" --kernel "$kernel" "${adds[@]}" -- sh /host/demo-vm.sh
