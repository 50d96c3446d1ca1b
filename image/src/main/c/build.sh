#!/usr/bin/env bash
# Rebuilds the tiny image's guest helper from vmctl-identity.c into the resource the image builder ships.
# Run after changing the C source; IdentityHelperTest checks that the committed binary is what this produces.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
out=../resources/dev/vmctl/image/vmctl-identity
gcc -Os -static -nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -fno-stack-protector \
    -fno-pie -no-pie -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
    -Wall -Wextra -Werror -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro -Wl,-z,noseparate-code -s \
    -o "$out" vmctl-identity.c
echo "$out: $(stat -c %s "$out") bytes ($(gcc --version | head -1))"
