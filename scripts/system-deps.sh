#!/usr/bin/env bash
# Install the Debian packages listed in scripts/system-packages.txt that are not installed yet.
# Never fails the caller: prints plainly what is missing when it cannot install.
set -u
cd "$(dirname "$0")/.."
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' scripts/system-packages.txt | awk 'NF {print $1}')
[ ${#pkgs[@]} -eq 0 ] && exit 0
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get -o APT::Sandbox::User=root update -qq >/dev/null 2>&1 && apt-get -o APT::Sandbox::User=root install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    exit 0
  fi
  echo "system-deps: apt-get could not install: ${missing[*]}" >&2
else
  echo "system-deps: not root or no apt-get; missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: install them with: sudo apt-get install ${missing[*]}  (tests that need them will skip)" >&2
fi
exit 0
