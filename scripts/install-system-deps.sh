#!/usr/bin/env bash
# Installs the system packages automix-webgpu needs on Debian 12 (bookworm):
#   - Mesa's software Vulkan driver (lavapipe) and the Vulkan loader, from
#     bookworm-backports: bookworm's own Mesa 22 lacks features Dawn requires
#     ("shaderUniform*ArrayDynamicIndexing required");
#   - Fashion-MNIST (Debian package dataset-fashion-mnist), the default dataset;
#   - Chromium, for the browser tests (optional: pass --no-browser to skip).
# The backports entry is derived from the machine's own Debian source entry,
# changing only the suite, so no mirror host name is written into this repo.
set -euo pipefail
want_browser=1
for a in "$@"; do [ "$a" = "--no-browser" ] && want_browser=0; done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

have_backports() { grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; }

if ! have_backports; then
  src=""
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qE '^Suites:.*\bbookworm\b' "$f" && { src="$f"; break; }
  done
  if [ -n "$src" ]; then
    # deb822: copy the first stanza that lists the plain 'bookworm' suite.
    awk 'BEGIN{RS=""; ORS="\n\n"} /Suites:[^\n]*bookworm( |\n|$)/ && !done {
           gsub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; done=1 }' "$src" \
      | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  elif [ -f /etc/apt/sources.list ] && grep -qE '^deb .* bookworm ' /etc/apt/sources.list; then
    grep -E '^deb .* bookworm ' /etc/apt/sources.list | head -n1 \
      | sed -E 's/ bookworm / bookworm-backports /' \
      | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  else
    echo "install-system-deps: found no Debian bookworm apt source to derive bookworm-backports from" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
$SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
if [ "$want_browser" = 1 ]; then
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "install-system-deps: Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), libvulkan1 $(dpkg-query -W -f='${Version}' libvulkan1)"
